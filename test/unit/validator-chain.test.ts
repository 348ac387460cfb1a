// DNSSEC validation in the resolver (RFC 4033-4035, RFC 8914 EDE) against a signed miniature
// DNS tree served by FakeUpstream: root (the test trust anchor) → test. → zones below it, each
// signed here with ECDSA P-256 keys and an NSEC chain. Virtual time; no network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKey, type SigningKey } from '../../src/dnssec/crypto.js';
import { makeDs } from '../../src/dnssec/ds.js';
import { dnskeyOf, signRrset } from '../../src/dnssec/sign.js';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import { Algorithm, type DsData } from '../../src/dnssec/types.js';
import { FakeUpstream } from '../../src/resolver/fake-upstream.js';
import { Resolver, type ResolverOptions } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { ResolverStep } from '../../src/resolver/step.js';
import { ManualClock } from '../../src/resolver/types.js';
import { decodeEde, EdnsOptionCode, makeMessage, Name, Rcode, recordFromText, RRClass, RRType, type ResourceRecord } from '../../src/wire/index.js';
import type { Request } from '../../src/transport/handler.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

const ROOT = '127.0.53.1', TLD = '127.0.53.2', LEAF = '127.0.53.3';
const NOW = 1_700_000_000; // seconds: signatures are valid around this time
const DAY = 86400;

interface SignOpts {
  inception?: number;
  expiration?: number;
  /** Leave these RRsets (owner/TYPE) unsigned. */
  unsigned?: string[];
  /** Leave out the NSEC chain. */
  noNsec?: boolean;
}

/** Signs a zone: DNSKEY (one key signs all), RRSIG per RRset, an NSEC chain (RFC 4034 §4). */
function signZone(origin: string, lines: string[], key: SigningKey, o: SignOpts = {}): ResourceRecord[] {
  const apex = Name.parse(origin);
  const dnskey = dnskeyOf(key, true);
  const records = [...lines.map((l) => recordFromText(l)), { name: apex, type: RRType.DNSKEY, class: RRClass.IN, ttl: 3600, data: dnskey }];
  const names = [...new Map(records.map((r) => [r.name.key, r.name])).values()].sort((a, b) => a.compare(b));
  const cuts = new Set(records.filter((r) => r.type === RRType.NS && !r.name.equals(apex)).map((r) => r.name.key));
  const authoritative = (n: Name) => n.equals(apex) || ![...cuts].some((c) => n.isSubdomainOf(Name.parse(c)) && !n.equals(Name.parse(c)));
  const nsec: ResourceRecord[] = [];
  if (!o.noNsec) {
    const owners = names.filter(authoritative);
    owners.forEach((n, i) => {
      const types = [...new Set(records.filter((r) => r.name.equals(n)).map((r) => r.type)), RRType.RRSIG, RRType.NSEC].sort((a, b) => a - b);
      nsec.push({ name: n, type: RRType.NSEC, class: RRClass.IN, ttl: 300, data: { next: owners[(i + 1) % owners.length]!, types } });
    });
  }
  const all = [...records, ...nsec];
  const sets = new Map<string, ResourceRecord[]>();
  for (const r of all) {
    const k = `${r.name.key}/${r.type}`;
    sets.set(k, [...(sets.get(k) ?? []), r]);
  }
  const sigs: ResourceRecord[] = [];
  for (const [k, set] of sets) {
    const first = set[0]!;
    // Delegation NS and glue are not signed; DS at a cut is (RFC 4035 §2.2).
    if (!authoritative(first.name) || (cuts.has(first.name.key) && first.type !== RRType.DS && first.type !== RRType.NSEC)) continue;
    if (o.unsigned?.includes(`${first.name}/${first.type}`) || o.unsigned?.includes(k)) continue;
    sigs.push(signRrset(set, { signer: apex, key, dnskey, inception: o.inception ?? NOW - DAY, expiration: o.expiration ?? NOW + 30 * DAY }));
  }
  return [...all, ...sigs];
}

function dsText(owner: string, key: SigningKey, patch: Partial<DsData> = {}): string {
  const ds = { ...makeDs(Name.parse(owner), dnskeyOf(key, true)), ...patch };
  return `${owner} 3600 IN DS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${Buffer.from(ds.digest).toString('hex')}`;
}

const rootKey = generateSigningKey(Algorithm.ECDSAP256SHA256);
const tldKey = generateSigningKey(Algorithm.ECDSAP256SHA256);
const keys = new Map<string, SigningKey>();
const leaves = ['good', 'expired', 'future', 'wrongds', 'stripped', 'nonsec', 'tampered', 'unsupported', 'lame'];
for (const l of leaves) keys.set(l, generateSigningKey(Algorithm.ECDSAP256SHA256));

const anchor = TrustAnchors.parse(dsText('.', rootKey));

function leafZone(l: string): ResourceRecord[] {
  const origin = `${l}.test.`;
  const lines = [
    `${origin} 3600 IN SOA ns.${origin} h.${origin} 1 3600 900 604800 300`, `${origin} 3600 IN NS ns.${origin}`,
    `ns.${origin} 3600 IN A ${LEAF}`, `www.${origin} 300 IN A 192.0.2.10`, `alias.${origin} 300 IN CNAME www.${origin}`,
    `mail.${origin} 300 IN MX 10 www.${origin}`,
  ];
  const k = keys.get(l)!;
  switch (l) {
    case 'expired': return signZone(origin, lines, k, { inception: NOW - 60 * DAY, expiration: NOW - DAY });
    case 'future': return signZone(origin, lines, k, { inception: NOW + DAY, expiration: NOW + 60 * DAY });
    case 'stripped': return signZone(origin, lines, k, { unsigned: [`www.${origin}/1`] });
    case 'nonsec': return signZone(origin, lines, k, { noNsec: true });
    case 'tampered': {
      const z = signZone(origin, lines, k);
      // Change the address after signing: the RRSIG no longer matches.
      return z.map((r) => (r.type === RRType.A && r.name.toString() === `www.${origin}` ? { ...r, data: { address: '192.0.2.66' } } : r));
    }
    default: return signZone(origin, lines, k);
  }
}

function world(): FakeUpstream {
  const rootZone = signZone('.', [
    '. 86400 IN SOA a.root. h.root. 1 1800 900 604800 300', '. 86400 IN NS a.root.', `a.root. 86400 IN A ${ROOT}`,
    'test. 86400 IN NS ns.test.', `ns.test. 86400 IN A ${TLD}`, dsText('test.', tldKey),
  ], rootKey);
  const tldLines = ['test. 3600 IN SOA ns.test. h.test. 1 3600 900 604800 300', 'test. 3600 IN NS ns.test.', `ns.test. 3600 IN A ${TLD}`];
  for (const l of leaves) {
    tldLines.push(`${l}.test. 3600 IN NS ns.${l}.test.`, `ns.${l}.test. 3600 IN A ${LEAF}`);
    if (l === 'wrongds') tldLines.push(dsText(`${l}.test.`, keys.get('good')!).replace('good', 'wrongds').replace(/^good/, 'wrongds'));
    else if (l === 'unsupported') tldLines.push(dsText(`${l}.test.`, keys.get(l)!, { algorithm: 253 }));
    else tldLines.push(dsText(`${l}.test.`, keys.get(l)!));
  }
  tldLines.push('insecure.test. 3600 IN NS ns.insecure.test.', `ns.insecure.test. 3600 IN A ${LEAF}`);
  const up = new FakeUpstream().serveRecords([ROOT], '.', rootZone).serveRecords([TLD], 'test.', signZone('test.', tldLines, tldKey));
  for (const l of leaves) up.serveRecords([LEAF], `${l}.test.`, leafZone(l));
  up.serve([LEAF], 'insecure.test.', [
    'insecure.test. 3600 IN SOA ns.insecure.test. h.insecure.test. 1 3600 900 604800 300', 'insecure.test. 3600 IN NS ns.insecure.test.',
    `ns.insecure.test. 3600 IN A ${LEAF}`, 'www.insecure.test. 300 IN A 192.0.2.20',
  ]);
  return up;
}

function setup(opts: Partial<ResolverOptions> = {}) {
  const up = world();
  const clock = new ManualClock(NOW * 1000);
  const r = new Resolver({ rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: anchor, upstream: up, clock, caseRandomisation: false, ...opts });
  return { up, clock, r };
}

test('secure chain root → test. → good.test.: answer, CNAME, NXDOMAIN and NODATA are secure (AD)', async () => {
  const { r } = setup();
  const a = await r.resolve('www.good.test.', RRType.A, RRClass.IN, { do: true });
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.equal(a.ad, true, JSON.stringify(a.ede));
  assert.ok(a.answer.some((x) => x.type === RRType.RRSIG), 'DO answer carries the RRSIG');
  const c = await r.resolve('alias.good.test.', RRType.A, RRClass.IN, { do: true });
  assert.equal(c.ad, true);
  assert.deepEqual(c.answer.filter((x) => x.type !== RRType.RRSIG).map((x) => x.type), [RRType.CNAME, RRType.A]);
  const nx = await r.resolve('nothere.good.test.', RRType.A, RRClass.IN, { do: true });
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  assert.equal(nx.ad, true, JSON.stringify(nx.ede));
  assert.ok(nx.authority.some((x) => x.type === RRType.NSEC));
  const nodata = await r.resolve('www.good.test.', RRType.AAAA, RRClass.IN, { do: true });
  assert.equal(nodata.rcode, Rcode.NOERROR);
  assert.equal(nodata.answer.length, 0);
  assert.equal(nodata.ad, true, JSON.stringify(nodata.ede));
});

test('without DO the answer has no RRSIG/NSEC, but the state is still known', async () => {
  const { r } = setup();
  const a = await r.resolve('www.good.test.', RRType.A);
  assert.equal(a.ad, true);
  assert.ok(!a.answer.some((x) => x.type === RRType.RRSIG));
  const nx = await r.resolve('nothere.good.test.', RRType.A);
  assert.ok(!nx.authority.some((x) => x.type === RRType.NSEC || x.type === RRType.RRSIG));
});

test('insecure delegation (NSEC proves no DS): answered, no AD', async () => {
  const { r } = setup();
  const a = await r.resolve('www.insecure.test.', RRType.A, RRClass.IN, { do: true });
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.equal(a.security, 'insecure');
  assert.equal(a.ad, false);
  assert.equal(a.answer.length, 1);
});

const bogusCases: Array<{ zone: string; ede: number; what: string }> = [
  { zone: 'expired', ede: 7, what: 'expired signatures' },
  { zone: 'future', ede: 8, what: 'signatures not yet valid' },
  { zone: 'wrongds', ede: 9, what: 'DS that matches no DNSKEY' },
  { zone: 'stripped', ede: 10, what: 'answer RRSIG stripped' },
  { zone: 'tampered', ede: 6, what: 'data changed after signing' },
];

for (const c of bogusCases) {
  test(`bogus: ${c.what} → SERVFAIL with EDE ${c.ede}`, async () => {
    const { r } = setup();
    const a = await r.resolve(`www.${c.zone}.test.`, RRType.A, RRClass.IN, { do: true });
    assert.equal(a.rcode, Rcode.SERVFAIL);
    assert.equal(a.ede?.infoCode, c.ede, a.ede?.text);
    assert.equal(a.answer.length, 0);
  });
}

test('bogus: NXDOMAIN without NSEC in a signed zone → SERVFAIL with EDE 12', async () => {
  const { r } = setup();
  const a = await r.resolve('nothere.nonsec.test.', RRType.A, RRClass.IN, { do: true });
  assert.equal(a.rcode, Rcode.SERVFAIL);
  assert.equal(a.ede?.infoCode, 12, a.ede?.text);
});

test('CD bit: bogus data is handed over unvalidated, without AD', async () => {
  const { r } = setup();
  const a = await r.resolve('www.tampered.test.', RRType.A, RRClass.IN, { do: true, cd: true });
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.equal(a.ad, false);
  assert.equal(a.security, 'bogus');
  // Without CD the same (now cached) data is still refused.
  const b = await r.resolve('www.tampered.test.', RRType.A, RRClass.IN, { do: true });
  assert.equal(b.rcode, Rcode.SERVFAIL);
});

test('bogus answers are cached briefly, then fetched again', async () => {
  const { r, up, clock } = setup({ bogusTtl: 30 });
  await r.resolve('www.tampered.test.', RRType.A);
  const before = up.count();
  assert.equal((await r.resolve('www.tampered.test.', RRType.A)).rcode, Rcode.SERVFAIL);
  assert.equal(up.count(), before, 'second question answered from the bogus cache entry');
  clock.advance(31_000);
  assert.equal((await r.resolve('www.tampered.test.', RRType.A)).rcode, Rcode.SERVFAIL);
  assert.ok(up.count() > before, 'after the bogus hold time the data is fetched again');
});

test('DS with an unsupported algorithm: insecure (EDE 1), answered without AD', async () => {
  const { r } = setup();
  const a = await r.resolve('www.unsupported.test.', RRType.A, RRClass.IN, { do: true });
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.equal(a.ad, false);
  assert.equal(a.ede?.infoCode, 1);
});

test('negative trust anchor: a bogus zone below it resolves (insecure) until the anchor expires', async () => {
  const { r, clock } = setup({ negativeTrustAnchors: [{ name: 'tampered.test', until: NOW * 1000 + 60_000 }], bogusTtl: 1 });
  const a = await r.resolve('www.tampered.test.', RRType.A);
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.equal(a.ad, false);
  clock.advance(3_700_000);
  r.cache.flush();
  assert.equal((await r.resolve('www.tampered.test.', RRType.A)).rcode, Rcode.SERVFAIL);
});

test('validated answers come from the cache: no new DS/DNSKEY or other queries', async () => {
  const { r, up } = setup();
  await r.resolve('www.good.test.', RRType.A);
  const n = up.count();
  const keysFetched = up.countType(RRType.DNSKEY);
  assert.ok(keysFetched >= 3, `DNSKEY of ., test. and good.test. fetched (${keysFetched})`);
  const again = await r.resolve('www.good.test.', RRType.A);
  assert.equal(again.ad, true);
  await r.resolve('mail.good.test.', RRType.MX);
  assert.equal(up.countType(RRType.DNSKEY), keysFetched, 'zone keys are reused');
  assert.ok(up.count() <= n + 1);
});

test('KeyTrap limit: a question that needs more signature checks than allowed fails closed', async () => {
  const { r } = setup({ validation: { maxValidations: 2 } });
  const a = await r.resolve('www.good.test.', RRType.A);
  assert.equal(a.rcode, Rcode.SERVFAIL);
  assert.match(a.ede?.text ?? '', /validation limit/);
});

test('dnssec: off: no DO upstream, no validation, no AD', async () => {
  const { r, up } = setup({ dnssec: 'off' });
  const a = await r.resolve('www.tampered.test.', RRType.A);
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.notEqual(a.ad, true);
  assert.equal(up.countType(RRType.DNSKEY), 0);
  assert.equal(r.validator, undefined);
});

test('ResolverStep: AD only for DO (or AD) clients; SERVFAIL carries the EDE option', async () => {
  const { r } = setup();
  const step = new ResolverStep(r, { allow: () => true });
  const ask = async (name: string, init: { do?: boolean; ad?: boolean; cd?: boolean }) => {
    const message = makeMessage({
      id: 7, rd: true, ad: init.ad ?? false, cd: init.cd ?? false, question: [{ name: Name.parse(name), type: RRType.A, class: RRClass.IN }],
      edns: { udpSize: 1232, version: 0, do: init.do ?? false, z: 0, options: [] },
    });
    const req: Request = {
      message, raw: new Uint8Array(0), client: { address: '127.0.0.1', port: 5000, family: 4 }, local: { address: '127.0.0.1', port: 53, family: 4 },
      transport: 'udp', listener: 'test', receivedAt: 0n, state: {},
    };
    return (await step.handle(req, async () => ({ drop: true }))).message!;
  };
  assert.equal((await ask('www.good.test.', { do: true })).ad, true);
  assert.equal((await ask('www.good.test.', { ad: true })).ad, true);
  assert.equal((await ask('www.good.test.', {})).ad, false);
  const bad = await ask('www.expired.test.', { do: true });
  assert.equal(bad.rcode, Rcode.SERVFAIL);
  const ede = bad.edns?.options.find((o) => o.code === EdnsOptionCode.EDE);
  assert.ok(ede);
  assert.equal(decodeEde(ede).infoCode, 7);
});

test('RFC 8198: a validated NSEC chain answers later NXDOMAIN and NODATA without asking upstream', async () => {
  const { up, r } = setup();
  const first = await r.resolve('nothere.good.test.', RRType.A, RRClass.IN, { do: true });
  assert.equal(first.rcode, Rcode.NXDOMAIN);
  assert.equal(first.ad, true);
  const nodata = await r.resolve('www.good.test.', RRType.AAAA, RRClass.IN, { do: true });
  assert.equal(nodata.ad, true);
  const before = up.count(LEAF);
  // "nope" sorts between mail and ns: the NSEC mail → ns cached with the first answer covers
  // it, and the NSEC at the apex covers the wildcard.
  const nx = await r.resolve('nope.good.test.', RRType.TXT, RRClass.IN, { do: true });
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  assert.equal(nx.ad, true);
  assert.ok(nx.authority.some((x) => x.type === RRType.SOA), 'the zone SOA is in the authority section');
  assert.ok(nx.authority.some((x) => x.type === RRType.NSEC && x.name.toString() === 'mail.good.test.'), 'with the covering NSEC');
  assert.ok(nx.authority.some((x) => x.type === RRType.RRSIG), 'and its RRSIG');
  // The NSEC at www lists A, RRSIG, NSEC only: TXT there is NODATA.
  const nd = await r.resolve('www.good.test.', RRType.TXT, RRClass.IN, { do: true });
  assert.equal(nd.rcode, Rcode.NOERROR);
  assert.equal(nd.answer.length, 0);
  assert.equal(nd.ad, true);
  assert.equal(up.count(LEAF), before, 'no query reached the zone');
  assert.equal(r.stats.aggressive, 2);
  // A name the cached NSECs do not cover still goes upstream.
  await r.resolve('b.good.test.', RRType.A, RRClass.IN, { do: true }); // alias → mail: not cached
  assert.ok(up.count(LEAF) > before);
});

test('RFC 8198: off by option, and never from insecure or bogus denials', async () => {
  const off = setup({ aggressiveNsec: false });
  await off.r.resolve('nothere.good.test.', RRType.A, RRClass.IN, { do: true });
  const n = off.up.count(LEAF);
  await off.r.resolve('nz.good.test.', RRType.A, RRClass.IN, { do: true });
  assert.ok(off.up.count(LEAF) > n);
  assert.equal(off.r.stats.aggressive, 0);
  const { r, up } = setup();
  for (const z of ['insecure', 'expired']) {
    await r.resolve(`nothere.${z}.test.`, RRType.A, RRClass.IN, { do: true });
    const n = up.count(LEAF);
    await r.resolve(`nothere2.${z}.test.`, RRType.A, RRClass.IN, { do: true });
    assert.ok(up.count(LEAF) > n, `${z}: the next name is asked upstream`);
  }
  assert.equal(r.stats.aggressive, 0);
});
