import { spawn, type ChildProcess } from 'node:child_process';

/** A daemon started by a test: its recent output, a kill that waits for the exit. */
export interface Daemon {
  out(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  readonly pid: number | undefined;
}

/**
 * Spawns a daemon and waits until `ready(output)` holds, checking every 100 ms at most `tries`
 * times; a daemon that exits or never gets ready is killed and the error shows its output.
 */
export async function daemon(
  cmd: string, args: string[], cwd: string, ready: (out: string) => boolean | Promise<boolean>, what: string, tries = 300,
): Promise<Daemon> {
  const child: ChildProcess = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited = false;
  const collect = (d: Buffer) => { out = (out + d.toString()).slice(-200_000); };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exit = new Promise<void>((r) => child.on('exit', () => { exited = true; r(); }));
  const d: Daemon = {
    pid: child.pid,
    out: () => out,
    kill: async (signal = 'SIGTERM') => {
      if (exited) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    },
  };
  for (let i = 0; i < tries && !exited; i++) {
    if (await ready(out)) return d;
    await new Promise((r) => setTimeout(r, 100));
  }
  await d.kill('SIGKILL');
  throw new Error(`${what} did not start:\n${out.slice(-3000)}`);
}
