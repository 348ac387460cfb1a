// Differential test of the authoritative answers: the same zones served by Portcullis, NSD and
// Knot on loopback, asked the same generated questions over UDP (several EDNS sizes) and TCP.
// rcode, AA, TC and the answer section must agree; authority and additional may differ only
// where a rule below says so, and each rule is a section of docs/differences.md.
// Without a built Portcullis (outside CI) only the peers are compared, which keeps the
// harness and the documented peer differences honest.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Rcode, RRType, type Message } from '../../src/wire/index.js';
import { DIFF_ORIGIN, diffZones } from './harness/diff-zones.js';
import {
  makeProbes, newTally, runProbes, SIZE_TRANSPORTS, tallyDifferences, TRANSPORTS,
  type DifferenceContext, type DifferenceRule, type NamedServer, type Probe, type Tally,
} from './harness/differential.js';
import {
  portcullisBinary, requirePeer, sectionSet, startKnot, startNsd, startPortcullis, type RunningServer,
} from './harness/index.js';

// This file owns port 15401 on 127.0.0.2 (NSD), 127.0.0.3 (Knot), 127.0.0.4 (Portcullis).
const PORT = 15401;
const PEERS = ['nsd', 'knot'] as const;

const ANY_TYPES = ['A', 'AAAA', 'MX', 'NS', 'SOA', 'TXT', 'ANY', 'DS', 'TYPE65280', 'TYPE999'];

interface Category {
  readonly title: string;
  readonly probes: Probe[];
}

let seed = 1;
const cat = (title: string, names: string[], qtypes: string[], transports = TRANSPORTS): Category =>
  ({ title, probes: makeProbes(DIFF_ORIGIN, names, qtypes, transports, seed++) });

const categories: Category[] = [
  cat('RFC 1034 4.3.2 step 3a: exact match at authoritative names (hits and NODATA, RFC 2308 2.2)',
    ['@', 'ns1', 'mail', 'www', 'mixedcase', 'txt', 'unk', 'ns2.other.test.', 'www.other.test.', 'other.test.'], ANY_TYPES),
  cat('RFC 1034 4.3.2 step 3c, RFC 2308 2.1: names that do not exist (NXDOMAIN)',
    ['nope', 'a.b.c.nope', 'x.www', 'x.mail', 'zzzz', '0', 'nope.other.test.'], ['A', 'MX', 'TXT', 'ANY', 'TYPE999']),
  cat('RFC 1034 4.3.2 step 3b, RFC 9471: referrals, glue, occluded data, DS at the parent (RFC 4035 3.1.4.1)',
    ['sub', 'host.sub', 'ns.sub', 'occluded.sub', 'a.b.sub', 'nosec', 'x.nosec', 'ns.nosec', 'ext', 'www.ext',
      'entdeleg', 'b.entdeleg', 'a.b.entdeleg', 'x.a.b.entdeleg'],
    ['A', 'AAAA', 'NS', 'MX', 'ANY', 'SOA', 'DS']),
  cat('RFC 1034 3.6.2, 4.3.2 step 3a, RFC 2181 10.1: CNAME chains (in zone, to other zones, to NXDOMAIN, loops)',
    ['c1', 'c2', 'c3', 'cmail', 'cext', 'cfar', 'cnx', 'cwild', 'cdeleg', 'cent', 'loop1'],
    ['A', 'AAAA', 'MX', 'CNAME', 'TXT', 'ANY', 'DS']),
  cat('RFC 4592 2.2, 3.3: wildcard synthesis, closest encloser, wildcard CNAME',
    ['foo.wild', 'a.b.wild', 'explicit.wild', 'x.explicit.wild', 'below.wild', 'deep.below.wild', 'x.below.wild', '*.wild',
      'wild', 'a.cw', 'a.b.cw', 'a.cwnx', 'x.w.other.test.', 'a.b.w.other.test.'],
    ['A', 'AAAA', 'TXT', 'MX', 'CNAME', 'ANY']),
  cat('RFC 8020, RFC 4592 2.2.2: empty non-terminals (NODATA, not NXDOMAIN) and wildcards beside them',
    ['ent', 'b.ent', 'x.b.ent', 'q.ent', 'a.q.ent', 'a.b.ent', 'deepent', 'z.deepent', 'y.z.deepent', 'x.y.z.deepent', 'w.x.y.z.deepent'],
    ['A', 'TXT', 'ANY', 'NS']),
  cat('RFC 6672 2.2, 3.1: DNAME substitution (to another zone and in zone)',
    ['dn', 'www.dn', 'ns2.dn', 'a.b.dn', 'nope.dn', 'dnin', 'x.dnin', 'y.x.dnin', 'nope.dnin', 'x.target'],
    ['A', 'AAAA', 'TXT', 'DNAME', 'CNAME', 'ANY']),
  cat('RFC 1035 4.2.1, RFC 6891 6.2.5, RFC 2181 9: UDP payload size and truncation at RRset boundaries',
    ['big', 'many', '@'], ['TXT', 'A', 'ANY', 'MX'], SIZE_TRANSPORTS),
  cat('RFC 3597 and RFC 4343: unknown types and case-insensitive names',
    ['unk', 'WWW', 'MiXeDcAsE', 'FOO.WILD', 'SUB', 'X.DNIN'], ['TYPE65280', 'TYPE65281', 'TYPE12345', 'A', 'TXT']),
  cat('RFC 1034 4.3.2 step 2: names outside every served zone (REFUSED)',
    ['example.net.', 'www.example.net.', 'test.', '.'], ['A', 'SOA', 'NS']),
];

// ---- documented differences (each id is a heading in docs/differences.md) ----
// A rule sees one difference between `a` (subject) and `b` (peer); the helpers look at whole
// replies so a rule only accepts the shape of disagreement that its section explains.
const lines = (m: Message, s: 'answer' | 'authority' | 'additional'): Set<string> => new Set(sectionSet(m[s]));
const subset = (x: Set<string>, y: Set<string>): boolean => [...x].every((v) => y.has(v));
const sideOf = (c: DifferenceContext, server: string): Message | undefined => (c.subject === server ? c.a : c.peer === server ? c.b : undefined);
const otherSide = (c: DifferenceContext, server: string): Message => (c.subject === server ? c.b : c.a);
const rrsetCount = (m: Message): number => new Set(m.answer.map((rr) => `${rr.name.key}/${rr.type}`)).size;
const zoneOf = (name: string): string => (/(^|\.)other\.test\.$/i.test(name) ? 'other.test.' : 'diff.test.');

export const rules: DifferenceRule[] = [
  {
    // NSD with minimal-responses leaves out the addresses of MX targets; the others add them.
    id: 'nsd-minimal-additional', fields: ['additional'], between: ['*', 'nsd'],
    matches: (c) => {
      const nsd = sideOf(c, 'nsd')!;
      const other = otherSide(c, 'nsd');
      const extra = [...lines(other, 'additional')].filter((l) => !lines(nsd, 'additional').has(l));
      return subset(lines(nsd, 'additional'), lines(other, 'additional')) && extra.every((l) => / IN (A|AAAA) /.test(l));
    },
  },
  {
    // RFC 8482 4.1: everyone answers ANY with one RRset of the name; Portcullis and Knot pick
    // the lowest type number, NSD its own first choice (the SOA at an apex, the last-loaded type
    // among uncommon ones). Only NSD's pick may differ, and only as one whole RRset of the name.
    id: 'nsd-any-choice', fields: ['answer', 'authority', 'additional'], between: ['*', 'nsd'],
    matches: (c) => {
      if (c.probe.qtype !== 'ANY' || c.a.rcode !== c.b.rcode || c.a.rcode !== Rcode.NOERROR) return false;
      const qname = c.probe.qname.toLowerCase();
      const single = (m: Message): boolean => rrsetCount(m) === 1 && m.answer.every((rr) => rr.name.key === qname);
      return single(c.a) && single(c.b) && c.a.answer[0]!.type !== c.b.answer[0]!.type;
    },
  },
  {
    // Seen only under concurrent load, not reproducible one query at a time: NSD 4.6 now and
    // then sets TC on a small UDP reply and sends no records. A client retries over TCP.
    id: 'nsd-spurious-tc', fields: ['tc', 'authority', 'additional'], between: ['*', 'nsd'],
    matches: (c) => {
      const nsd = sideOf(c, 'nsd')!;
      return !c.probe.opts.tcp && nsd.tc && nsd.answer.length === 0 && nsd.authority.length === 0 && !otherSide(c, 'nsd').tc;
    },
  },
  {
    // Knot stops a CNAME/DNAME chain at the zone boundary; NSD and Portcullis follow it into
    // another zone served here (RFC 1034 4.3.2 step 3a "go back to step 1").
    id: 'knot-chain-stops-at-zone', fields: ['rcode', 'answer', 'authority', 'additional'], between: ['*', 'knot'],
    matches: (c) => {
      const knot = sideOf(c, 'knot')!;
      const other = otherSide(c, 'knot');
      const qzone = zoneOf(c.probe.qname.toLowerCase());
      const leaves = knot.answer.some((rr) => (rr.type === RRType.CNAME) && zoneOf(String((rr.data as { target: unknown }).target).toLowerCase()) !== qzone);
      return leaves && knot.rcode === Rcode.NOERROR && subset(lines(knot, 'answer'), lines(other, 'answer'));
    },
  },
];

const servers: RunningServer[] = [];
let portcullisError: Error | undefined;
const skipPeers = requirePeer('nsd', 'knotd');

describe('authoritative differential: Portcullis vs NSD vs Knot', { skip: skipPeers }, () => {
  before(async () => {
    servers.push(await startNsd(diffZones, PORT, { address: '127.0.0.2' }));
    servers.push(await startKnot(diffZones, PORT, { address: '127.0.0.3' }));
    if (portcullisBinary() || process.env.CI === 'true') {
      try {
        servers.push(await startPortcullis({ address: '127.0.0.4', port: PORT, zones: diffZones }));
      } catch (e) {
        portcullisError = e as Error;
      }
    }
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  const grand = { probes: 0, queries: 0 };
  for (const c of categories) {
    it(c.title, async (t) => {
      if (portcullisError) throw portcullisError;
      const named: NamedServer[] = servers.map((s) => ({ name: s.name, address: s.address, port: s.port }));
      const results = await runProbes(named, c.probes);
      const queries = results.length * named.length;
      grand.probes += results.length;
      grand.queries += queries;
      const subject = named.some((s) => s.name === 'portcullis') ? 'portcullis' : undefined;
      const pairs: Array<[string, string]> = subject ? PEERS.map((p) => [subject, p]) : [['nsd', 'knot']];
      const lines: string[] = [];
      const undocumented: string[] = [];
      for (const [a, b] of pairs) {
        const tally: Tally = newTally();
        tallyDifferences(results, a, b, rules, tally);
        const doc = [...tally.documented].map(([id, n]) => `${id}=${n}`).join(' ');
        lines.push(`${a} vs ${b}: ${tally.probes} probes, ${tally.identical} identical, documented differences: ${doc || 'none'}, undocumented: ${tally.undocumented.length}`);
        undocumented.push(...tally.undocumented);
      }
      t.diagnostic(`${results.length} probes x ${named.length} servers = ${queries} queries`);
      for (const l of lines) t.diagnostic(l);
      if (!subject) t.diagnostic('Portcullis not built: compared the peers only');
      if (process.env.PORTCULLIS_DIFF_DUMP) for (const u of undocumented) console.log(`UNDOC ${u}`);
      assert.deepEqual(undocumented.slice(0, 40), [], `${undocumented.length} undocumented differences (first 40 shown)`);
    });
  }
  it('every difference rule is documented in docs/differences.md', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
    const docPath = [join(root, 'docs', 'differences.md'), join(root, '..', 'docs', 'differences.md')]
      .find((p) => { try { readFileSync(p); return true; } catch { return false; } });
    assert.ok(docPath, 'docs/differences.md exists');
    const doc = readFileSync(docPath, 'utf8');
    for (const r of rules) assert.match(doc, new RegExp(`^#+ .*\\{#${r.id}\\}|^#+ ${r.id}\\b`, 'm'), `rule ${r.id} has a section`);
    console.log(`differential: ${grand.probes} probes, ${grand.queries} queries in total, ${rules.length} documented rules`);
  });
});
