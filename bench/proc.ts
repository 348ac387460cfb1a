// What /proc tells about a running server: CPU time and memory of its whole process tree
// (NSD forks, BIND and Knot run threads; a thread's time is counted in its process).
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times; 100 on every Linux build we target. */
export const CLK_TCK = 100;

/** Fields after the command name of /proc/<pid>/stat (the name may hold spaces and parens). */
export function parseStat(text: string): { ppid: number; utime: number; stime: number; minflt: number } {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, minflt 10, utime 14, stime 15.
  return { ppid: Number(rest[1]), minflt: Number(rest[7]), utime: Number(rest[11]), stime: Number(rest[12]) };
}

function readStat(pid: number): { ppid: number; utime: number; stime: number; minflt: number } | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = readStat(Number(entry));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(entry));
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** CPU seconds (user + system) used so far by the tree of `pid`. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const st = readStat(p);
    if (st) ticks += st.utime + st.stime;
  }
  return ticks / CLK_TCK;
}

/**
 * Minor page faults so far of the tree of `pid`: each is a page of memory touched for the first
 * time, and on a virtual machine each costs several microseconds (about 11 µs on the machine
 * `docs/performance.md` reports), so a server's memory shows in its load time too.
 */
export function minorFaults(pid: number): number {
  let n = 0;
  for (const p of processTree(pid)) n += readStat(p)?.minflt ?? 0;
  return n;
}

/** A "Key:   1234 kB" field of /proc/<pid>/status or smaps_rollup, in bytes. */
export function parseKbField(text: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/**
 * Memory of the tree of `pid`: PSS (shared pages split between the processes sharing them, so
 * a forked NSD is not counted twice) and the plain sum of RSS.
 */
export function memory(pid: number): { pss: number; rss: number } {
  let pss = 0;
  let rss = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const r = parseKbField(status, 'VmRSS') ?? 0;
      rss += r;
      let s: number | undefined;
      try {
        s = parseKbField(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'), 'Pss');
      } catch { /* older kernels: fall back to RSS */ }
      pss += s ?? r;
    } catch { /* exited meanwhile */ }
  }
  return { pss, rss };
}
