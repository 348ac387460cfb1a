// Writes a deterministic zone of N records (default 1,000,000) for parser benchmarks:
//   node dist/bench/gen-zone.js OUT.zone [N]
// The mix resembles a large hosting zone: A/AAAA hosts, MX, TXT, CNAME, SRV and delegations
// with glue, relative names, $TTL changes and some multi-line records. Same N, same bytes.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const GEN_ORIGIN = 'bench.test.';

export interface GenerateOptions {
  /**
   * Every this many hosts, one of the problems `checkZone` reports (duplicate, TTL mismatch,
   * CNAME beside data, occluded data, DNAME children, missing glue, out-of-zone data, ...), in
   * turn. Default 0: a clean zone (what the benchmarks load).
   */
  faultEvery?: number;
}

/**
 * The problems written with `faultEvery`, one per line group; `h` is a fresh host label. Each
 * group counts as the records it holds.
 */
const FAULTS: ((h: string) => string[])[] = [
  (h) => [`${h} A 10.1.0.1`, `${h} A 10.1.0.1`], // DUPLICATE
  (h) => [`${h} A 10.1.0.1`, `${h} 60 A 10.1.0.2`], // TTL_MISMATCH
  (h) => [`${h} CNAME h0`, `${h} TXT "beside a CNAME"`], // CNAME_EXTRA_RECORDS
  (h) => [`${h} CNAME h0`, `${h} CNAME h1`], // CNAME_MULTIPLE
  (h) => [`${h} NS ns.${h}`, `ns.${h} A 10.1.0.3`, `deep.${h} TXT "occluded"`, `${h} MX 10 mail.example.`], // OCCLUDED x2
  (h) => [`${h} DNAME example.net.`, `x.${h} A 10.1.0.4`], // DNAME_CHILDREN
  (h) => [`${h} NS ns.${h}`], // NS_GLUE (warning)
  (h) => [`${h}.elsewhere.example. A 10.1.0.5`], // OUT_OF_ZONE
  (h) => [`${h} NS a.ns.${h}`, `*.ns.${h} AAAA 2001:db8::53`], // wildcard glue: no finding
  (h) => [`${h} DNAME example.net.`, `${h} NS ns1.example.`], // DNAME_EXTRA_NS
  (h) => [`@ NS ns.${h}`], // NS_GLUE (error: an apex server without an address)
  (h) => [`sub.${h} SOA ns1 hostmaster 1 2 3 4 5`], // SOA_NOT_APEX
];

/** Streams the zone to `path`; resolves to the number of records written. */
export async function generateZone(path: string, n = 1_000_000, options: GenerateOptions = {}): Promise<number> {
  const faultEvery = options.faultEvery ?? 0;
  let faults = 0;
  const out = createWriteStream(path);
  let buf = `$ORIGIN ${GEN_ORIGIN}\n$TTL 3600\n@ IN SOA ns1 hostmaster ( 2024010101 7200 3600 1209600 300 )\n  IN NS ns1\n  IN NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n`;
  let written = 5;
  // A small linear congruential generator: deterministic without Math.random.
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; written < n; i++) {
    const host = `h${i.toString(36)}`;
    if (faultEvery > 0 && i % faultEvery === faultEvery - 1) {
      const lines = FAULTS[faults++ % FAULTS.length]!(`f${i.toString(36)}`);
      if (n - written >= lines.length) {
        buf += lines.join('\n') + '\n';
        written += lines.length;
        continue;
      }
    }
    switch (i % 10) {
      case 0: case 1: case 2: case 3:
        buf += `${host} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
        break;
      case 4:
        buf += `${host} 300 IN AAAA 2001:db8::${(rnd() & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}\n`;
        break;
      case 5:
        buf += `${host} MX ${rnd() % 50} mail.${host}\n`;
        break;
      case 6:
        buf += `${host} TXT "v=spf1 ip4:10.0.0.0/8 -all" "id=${rnd()}"\n`;
        break;
      case 7:
        buf += `${host} CNAME h${(i - 7).toString(36)}\n`;
        break;
      case 8:
        buf += `_sip._tcp.${host} SRV ( 10 ${rnd() % 100}\n        5060 sip.${host}.example. ) ; multi-line\n`;
        break;
      case 9: {
        if (n - written < 2) {
          buf += `${host} A 10.9.9.9\n`;
          break;
        }
        buf += `${host} NS ns.${host}\nns.${host} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
        written++;
        break;
      }
    }
    written++;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  return written;
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!);
if (isMain && process.argv[1]!.endsWith('gen-zone.js')) {
  const path = process.argv[2];
  if (!path) {
    console.error('usage: gen-zone OUT.zone [N]');
    process.exit(1);
  }
  const n = Number(process.argv[3] ?? 1_000_000);
  generateZone(path, n).then((count) => console.log(`wrote ${count} records to ${path}`));
}
