// Writes a deterministic zone of N records (default 1,000,000) for parser benchmarks:
//   node dist/bench/gen-zone.js OUT.zone [N]
// The mix resembles a large hosting zone: A/AAAA hosts, MX, TXT, CNAME, SRV and delegations
// with glue, relative names, $TTL changes and some multi-line records. Same N, same bytes.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const GEN_ORIGIN = 'bench.test.';

/** Streams the zone to `path`; resolves to the number of records written. */
export async function generateZone(path: string, n = 1_000_000): Promise<number> {
  const out = createWriteStream(path);
  let buf = `$ORIGIN ${GEN_ORIGIN}\n$TTL 3600\n@ IN SOA ns1 hostmaster ( 2024010101 7200 3600 1209600 300 )\n  IN NS ns1\n  IN NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n`;
  let written = 5;
  // A small linear congruential generator: deterministic without Math.random.
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; written < n; i++) {
    const host = `h${i.toString(36)}`;
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
