// RFC 5011 trust-anchor tracking on a virtual clock: a new KSK becomes a trust anchor only
// after the 30-day add hold-down, a self-signed revocation removes a key at once, a trusted
// key that leaves stays trusted as "missing", the state survives a restart (FILE.state), and
// keys in a set not signed by a trusted key are never added. Then the same through the
// resolver: a root zone rolls its KSK with RFC 5011 and validation follows it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDs } from '../../src/dnssec/ds.js';
import { generateZoneKey, type ZoneKey } from '../../src/dnssec/keys.js';
import { keyTag } from '../../src/dnssec/keytag.js';
import { HOLD_DOWN, loadTrustAnchorFile, ManagedTrustAnchors } from '../../src/dnssec/rfc5011.js';
import { DEFAULT_POLICY, signZone } from '../../src/dnssec/signer.js';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import { DnskeyFlags, type RrsigData } from '../../src/dnssec/types.js';
import { sigsCovering } from '../../src/dnssec/validate.js';
import { FakeUpstream } from '../../src/resolver/fake-upstream.js';
import { Resolver } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { ManualClock } from '../../src/resolver/types.js';
import { Name, Rcode, recordFromText, RRType, type ResourceRecord } from '../../src/wire/index.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

const D = 86400;
const T0 = 1_750_000_000;
const ZONE = Name.root;
const ROOT = '127.0.54.1';

const revoked = (k: ZoneKey): ZoneKey => {
  const dnskey = { ...k.dnskey, flags: k.dnskey.flags | DnskeyFlags.REVOKE };
  return { ...k, dnskey, tag: keyTag(dnskey) };
};

const rootLines = [
  '. 86400 IN SOA a.root. h.root. 1 1800 900 604800 300', '. 86400 IN NS a.root.', `a.root. 86400 IN A ${ROOT}`, 'probe. 300 IN TXT "hello"',
];

/** The root zone signed at `now` by `keys` (all published and signing; CSKs). */
function signedRoot(keys: ZoneKey[], now: number): ResourceRecord[] {
  const policy = { ...DEFAULT_POLICY, denial: 'nsec' as const, cds: false };
  return signZone(ZONE, rootLines.map((l) => recordFromText(l)), policy, keys.map((k) => ({ ...k, timing: {} })), now);
}

function keyset(records: ResourceRecord[]): { rrs: ResourceRecord[]; sigs: RrsigData[] } {
  return { rrs: records.filter((r) => r.type === RRType.DNSKEY), sigs: sigsCovering(records, ZONE, RRType.DNSKEY) };
}

const dsLine = (k: ZoneKey): string => {
  const d = makeDs(ZONE, k.dnskey);
  return `. 86400 IN DS ${d.keyTag} ${d.algorithm} ${d.digestType} ${Buffer.from(d.digest).toString('hex')}`;
};

test('RFC 5011 §2.4.1: add hold-down, §2.1 revocation, §4 missing keys, state file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-5011-'));
  try {
    const a = generateZoneKey(ZONE, 13, true, T0);
    const b = generateZoneKey(ZONE, 13, true, T0);
    const c = generateZoneKey(ZONE, 13, true, T0);
    const file = join(dir, 'anchors');
    writeFileSync(file, `; rfc5011: managed\n${dsLine(a)}\n`);
    const ta = loadTrustAnchorFile(file, T0);
    assert.ok(ta instanceof ManagedTrustAnchors);
    const m = ta as ManagedTrustAnchors;
    const observe = (keys: ZoneKey[], signers: ZoneKey[], at: number) => {
      const published = signedRoot(keys, at).filter((r) => r.type === RRType.DNSKEY);
      // Sign the DNSKEY set with `signers` only (an attacker's set, or a revoked key's).
      const signed = signZone(ZONE, [...rootLines.map((l) => recordFromText(l)), ...published], { ...DEFAULT_POLICY, denial: 'nsec', cds: false }, signers.map((k) => ({ ...k, timing: {} })), at);
      const withKeys = [...signed.filter((r) => r.type !== RRType.DNSKEY), ...published];
      const ks = keyset(withKeys);
      return m.observe(ZONE, ks.rrs, ks.sigs, at);
    };
    const trusted = () => (m.get(ZONE)?.keys ?? []).map((k) => keyTag(k)).sort((x, y) => x - y);

    // The DS anchor turns into the key it names.
    assert.equal(observe([a], [a], T0), true);
    assert.deepEqual(trusted(), [a.tag]);
    assert.deepEqual(m.get(ZONE)!.ds, []);
    assert.ok(existsSync(`${file}.state`), 'state file written beside the anchors');

    // B appears: pending for 30 days, not trusted before.
    observe([a, b], [a], T0 + D);
    assert.equal(m.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.state, 'addpend');
    observe([a, b], [a], T0 + D + HOLD_DOWN - 1);
    assert.deepEqual(trusted(), [a.tag], 'not trusted one second before the hold-down ends');
    // A key in a set signed only by an untrusted key is never added.
    assert.equal(observe([a, b, c], [c], T0 + 2 * D), false);
    assert.equal(m.tracked(ZONE).some((k) => keyTag(k.dnskey) === c.tag), false);

    // State survives a restart.
    const again = loadTrustAnchorFile(file, T0 + 3 * D) as ManagedTrustAnchors;
    assert.equal(again.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.state, 'addpend');
    assert.equal(again.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.since, T0 + D);

    observe([a, b], [a], T0 + D + HOLD_DOWN);
    assert.deepEqual(trusted(), [a.tag, b.tag].sort((x, y) => x - y), 'trusted after the hold-down');

    // A trusted key that leaves stays trusted ("missing") and comes back as valid.
    observe([a], [a], T0 + 31 * D + 10);
    assert.equal(m.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.state, 'missing');
    assert.ok(trusted().includes(b.tag), 'missing keys stay anchors');
    observe([a, b], [a], T0 + 31 * D + 20);
    assert.equal(m.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.state, 'valid');

    // A pending key that leaves starts over.
    observe([a, b, c], [a], T0 + 32 * D);
    observe([a, b], [a], T0 + 33 * D);
    assert.equal(m.tracked(ZONE).some((k) => keyTag(k.dnskey) === c.tag), false, 'addpend → start');

    // A revoked A that signs the set itself is no longer trusted, from now.
    const ra = revoked(a);
    assert.equal(observe([ra, b], [ra, b], T0 + 40 * D), true);
    assert.deepEqual(trusted(), [b.tag]);
    assert.equal(m.tracked(ZONE).find((k) => keyTag(k.dnskey) === a.tag)?.state, 'revoked');
    // A REVOKE bit without the key's own signature is ignored (anyone can set a bit).
    const rb = revoked(b);
    observe([a, rb], [a], T0 + 41 * D);
    assert.equal(m.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.state, 'valid');

    // B leaves a set signed by... nobody trusted (only revoked A): nothing changes.
    observe([ra], [ra], T0 + 42 * D);
    assert.equal(m.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.state, 'valid');

    // Revoked keys are forgotten after the remove hold-down once gone from the set.
    observe([b], [b], T0 + 40 * D + HOLD_DOWN);
    assert.equal(m.tracked(ZONE).some((k) => keyTag(k.dnskey) === a.tag), false);
    t.diagnostic(`transitions: ${m.events.join('; ')}`);

    // An unmarked file stays static.
    const plain = join(dir, 'static');
    writeFileSync(plain, `${dsLine(a)}\n`);
    assert.equal(loadTrustAnchorFile(plain, T0) instanceof ManagedTrustAnchors, false);
    assert.ok(loadTrustAnchorFile(plain, T0) instanceof TrustAnchors);
    assert.match(readFileSync(`${file}.state`, 'utf8'), /"state": "valid"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RFC 5011 through the resolver: the root rolls its KSK and validation follows; the revoked key is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-5011r-'));
  try {
    const a = generateZoneKey(ZONE, 13, true, T0);
    const b = generateZoneKey(ZONE, 13, true, T0);
    const file = join(dir, 'root.anchors');
    writeFileSync(file, `; rfc5011: managed\n${dsLine(a)}\n`);
    const anchors = loadTrustAnchorFile(file, T0) as ManagedTrustAnchors;
    const clock = new ManualClock(T0 * 1000);
    const ask = async (records: ResourceRecord[]) => {
      // A new resolver per step: an empty cache, so the DNSKEY set is fetched (and observed) again.
      const up = new FakeUpstream().serveRecords([ROOT], '.', records);
      const r = new Resolver({ rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: anchors, upstream: up, clock, caseRandomisation: false, primeRoot: false });
      return r.resolve('probe.', RRType.TXT, 1, { do: true });
    };
    const now = () => Math.floor(clock.now() / 1000);

    let r = await ask(signedRoot([a], now()));
    assert.equal(r.ad, true, JSON.stringify(r.ede));
    clock.advance(D * 1000);
    r = await ask(signedRoot([a, b], now()));
    assert.equal(r.ad, true);
    assert.equal(anchors.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.state, 'addpend');
    // Before the hold-down, a zone signed by B alone is not trusted.
    r = await ask(signedRoot([b], now()));
    assert.equal(r.rcode, Rcode.SERVFAIL);
    assert.equal(r.ede?.infoCode, 9);
    // The pending key left in that fetch? No: an untrusted set changes nothing.
    assert.equal(anchors.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.state, 'addpend');
    for (let day = 2; day <= 31; day += 10) {
      clock.advance(10 * D * 1000);
      r = await ask(signedRoot([a, b], now()));
      assert.equal(r.ad, true);
    }
    assert.equal(anchors.tracked(ZONE).find((k) => keyTag(k.dnskey) === b.tag)?.state, 'valid');
    clock.advance(D * 1000);
    r = await ask(signedRoot([revoked(a), b], now()));
    assert.equal(r.ad, true);
    assert.equal(anchors.tracked(ZONE).find((k) => keyTag(k.dnskey) === a.tag)?.state, 'revoked');
    // The old key, revoked, can no longer vouch for the root: a set it alone signs is bogus.
    clock.advance(D * 1000);
    r = await ask(signedRoot([a], now()));
    assert.equal(r.rcode, Rcode.SERVFAIL);
    r = await ask(signedRoot([b], now()));
    assert.equal(r.ad, true, 'B alone is the root anchor now');
    t.diagnostic(`transitions: ${anchors.events.join('; ')}`);
    const state = JSON.parse(readFileSync(`${file}.state`, 'utf8')) as { zones: Array<{ keys: Array<{ tag: number; state: string }> }> };
    assert.deepEqual(state.zones[0]!.keys.map((k) => [k.tag, k.state]).sort(), [[a.tag, 'revoked'], [b.tag, 'valid']].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
