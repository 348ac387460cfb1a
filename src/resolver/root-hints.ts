import { readFileSync } from 'node:fs';
import { Name, recordFromText, RRType } from '../wire/index.js';

/** Name servers of a zone with whatever addresses are known for them. */
export interface NameServer {
  /** Absent when only an address is configured (stub/forward addresses, scenario hints). */
  readonly name?: Name;
  readonly addresses: string[];
}

export interface RootHints {
  readonly servers: NameServer[];
}

/**
 * The IANA root hints (named.root, the 2023-11 revision with b.root-servers.net's new
 * addresses). Used only when `resolver.root-hints` is not set; tests always pass their own.
 */
const IANA: Array<[string, string, string]> = [
  ['a.root-servers.net.', '198.41.0.4', '2001:503:ba3e::2:30'],
  ['b.root-servers.net.', '170.247.170.2', '2801:1b8:10::b'],
  ['c.root-servers.net.', '192.33.4.12', '2001:500:2::c'],
  ['d.root-servers.net.', '199.7.91.13', '2001:500:2d::d'],
  ['e.root-servers.net.', '192.203.230.10', '2001:500:a8::e'],
  ['f.root-servers.net.', '192.5.5.241', '2001:500:2f::f'],
  ['g.root-servers.net.', '192.112.36.4', '2001:500:12::d0d'],
  ['h.root-servers.net.', '198.97.190.53', '2001:500:1::53'],
  ['i.root-servers.net.', '192.36.148.17', '2001:7fe::53'],
  ['j.root-servers.net.', '192.58.128.30', '2001:503:c27::2:30'],
  ['k.root-servers.net.', '193.0.14.129', '2001:7fd::1'],
  ['l.root-servers.net.', '199.7.83.42', '2001:500:9f::42'],
  ['m.root-servers.net.', '202.12.27.33', '2001:dc3::35'],
];

export const ianaRootHints: RootHints = {
  servers: IANA.map(([n, a, aaaa]) => ({ name: Name.parse(n), addresses: [a, aaaa] })),
};

/** Hints naming bare addresses (tests, scenario files). */
export function rootHintsFromAddresses(addresses: string[]): RootHints {
  return { servers: addresses.map((a) => ({ addresses: [a] })) };
}

/**
 * Parses a root hints file in zone-file syntax (`. NS a.root-servers.net.` plus A/AAAA lines,
 * as in named.root). Errors name the file and line.
 */
export function parseRootHints(text: string, file = 'root-hints'): RootHints {
  const ns: Name[] = [];
  const addrs = new Map<string, string[]>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/;.*$/, '').trim();
    if (!line || line.startsWith('$')) continue;
    let rr;
    try {
      rr = recordFromText(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: ${(e as Error).message}`);
    }
    if (rr.type === RRType.NS) {
      if (!rr.name.isRoot) throw new Error(`${file}:${i + 1}: NS record for ${rr.name}, root hints hold only the root's`);
      ns.push((rr.data as { target: Name }).target);
    } else if (rr.type === RRType.A || rr.type === RRType.AAAA) {
      const list = addrs.get(rr.name.key) ?? [];
      list.push((rr.data as { address: string }).address);
      addrs.set(rr.name.key, list);
    } else throw new Error(`${file}:${i + 1}: unexpected ${rr.type} record in root hints`);
  }
  if (ns.length === 0) throw new Error(`${file}: no NS records for the root`);
  const servers = ns.map((n) => ({ name: n, addresses: addrs.get(n.key) ?? [] }));
  if (!servers.some((s) => s.addresses.length > 0)) throw new Error(`${file}: no address for any root server`);
  return { servers };
}

export function loadRootHints(file: string): RootHints {
  return parseRootHints(readFileSync(file, 'utf8'), file);
}
