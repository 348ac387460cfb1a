// Automatic key rollovers (RFC 6781 §4.1, RFC 7583) on a virtual clock: ZSK pre-publish and
// KSK/CSK double-signature with the parent's DS changed by the (simulated) operator. At every
// signing pass, and just before each, every combination of DS, DNSKEY and data a validator
// may hold in its cache must validate with our validator.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusCommand } from '../../src/cli/dnssec.js';
import { generateZoneKey, loadZoneKeys, type ZoneKey } from '../../src/dnssec/keys.js';
import { DEFAULT_ROLLOVER, planRollover, type RolloverPolicy } from '../../src/dnssec/rollover.js';
import { dnssecZoneSchema, signerSettings } from '../../src/dnssec/signer-config.js';
import { Name } from '../../src/wire/index.js';
import { checkInstant, keyUse, simulate, type Snapshot } from './dnssec-rollover-sim.js';

const H = 3600;
const D = 86400;
const T0 = 1_800_000_000;
const ROLL: RolloverPolicy = { zskLifetime: 2 * D, kskLifetime: 3 * D, publishSafety: H, retireSafety: H, parentDsTtl: 2 * H };
const POLICY = { signatureLifetime: 3 * D, signatureRefresh: D, signatureJitter: H, dnskeyTtl: H };
const TTLS = { ds: ROLL.parentDsTtl, dnskey: POLICY.dnskeyTtl, data: H };

interface Phase { at: number; published: number[]; signing: number[]; cds: number[] }

/** The distinct key states the zone went through, in order. */
function phases(snaps: readonly Snapshot[]): Phase[] {
  const out: Phase[] = [];
  for (const s of snaps) {
    const u = keyUse(s.records);
    const last = out.at(-1);
    if (last && String(last.published) === String(u.published) && String(last.signing) === String(u.signing) && String(last.cds) === String(u.cds)) continue;
    out.push({ at: s.at, published: u.published, signing: u.signing, cds: u.cds.sort((a, b) => a - b) });
  }
  return out;
}

test('RFC 7583: KSK+ZSK zone rolls both keys; every cached view validates at every instant', async (t) => {
  const origin = Name.parse('roll.test.');
  let checked = 0;
  let combos = 0;
  const failures: string[] = [];
  const statusWhileWaiting: string[] = [];
  const sim = await simulate(
    { origin: 'roll.test.', split: true, denial: 'nsec', start: T0, end: T0 + 8 * D, policy: POLICY, rollover: ROLL, parentDelay: 2 * H, seenDelay: H, parentStyle: 'replace' },
    async (snap, s) => {
      for (const at of [snap.at - 1, snap.at]) {
        if (at < T0) continue;
        const r = checkInstant(origin, s, at, TTLS);
        checked++;
        combos += r.combos;
        failures.push(...r.failures);
      }
      if (statusWhileWaiting.length === 0 && s.logs.some((l) => l.msg.includes('ds-seen')) && !s.logs.some((l) => l.msg.includes('seen at the parent'))) {
        let text = '';
        await statusCommand(origin, { dir: s.dir, now: snap.at }, { stdout: { write: (x: string) => (text += x) }, stderr: { write: () => true } });
        statusWhileWaiting.push(text);
      }
    },
  );
  try {
    t.diagnostic(`${sim.passes} signing passes over 8 virtual days, ${checked} instants, ${combos} DS×DNSKEY×data combinations checked`);
    assert.deepEqual(failures.slice(0, 5), []);
    const ph = phases(sim.snapshots);
    t.diagnostic(ph.map((p) => `${(p.at - T0) / H}h published ${p.published} signing ${p.signing} cds ${p.cds}`).join('\n'));

    const keys = loadZoneKeys(sim.dir, origin);
    const zsks = keys.filter((k) => !k.ksk).sort((a, b) => a.timing.publish! - b.timing.publish!);
    const ksks = keys.filter((k) => k.ksk).sort((a, b) => a.timing.publish! - b.timing.publish!);
    // 8 days with a 2-day ZSK lifetime: three successors; 3-day KSK lifetime: two.
    assert.ok(zsks.length >= 4, `ZSKs made: ${zsks.length}`);
    assert.ok(ksks.length >= 3, `KSKs made: ${ksks.length}`);

    // ZSK pre-publish, read back from the key files: published a DNSKEY TTL + publish-safety
    // before it signs; the predecessor goes inactive exactly then and is removed after
    // signature lifetime + max TTL + retire-safety.
    for (let i = 1; i < zsks.length; i++) {
      const [old, next] = [zsks[i - 1]!, zsks[i]!];
      assert.equal(next.timing.activate! - next.timing.publish!, POLICY.dnskeyTtl + ROLL.publishSafety, `ZSK ${next.tag} pre-publication`);
      assert.equal(old.timing.inactive, next.timing.activate, `ZSK ${old.tag} hands over to ${next.tag}`);
      assert.equal(old.timing.delete! - old.timing.inactive!, POLICY.signatureLifetime + 3600 + ROLL.retireSafety);
      assert.equal(next.timing.activate! - old.timing.activate!, ROLL.zskLifetime, 'a ZSK signs for its lifetime');
    }
    // Each ZSK step seen in the zone: published only, then signing, then (for the first) gone.
    const first = zsks[0]!;
    const second = zsks[1]!;
    const pre = ph.find((p) => p.published.includes(second.tag));
    assert.ok(pre && !pre.signing.includes(second.tag) && pre.signing.includes(first.tag), 'successor ZSK published before it signs');
    const sw = ph.find((p) => p.signing.includes(second.tag));
    assert.ok(sw && !sw.signing.includes(first.tag) && sw.published.includes(first.tag), 'old ZSK stays published after it stops signing');
    assert.equal(sw.at - pre.at, POLICY.dnskeyTtl + ROLL.publishSafety);
    const gone = ph.find((p) => p.at > sw.at && !p.published.includes(first.tag));
    assert.ok(gone, 'old ZSK removed');
    assert.equal(gone.at, first.timing.delete);

    // KSK: successor published and signing DNSKEY beside the old one; CDS switches when every
    // cache has it; the old KSK stays until DS seen + parent DS TTL + retire-safety.
    const [k1, k2] = [ksks[0]!, ksks[1]!];
    assert.equal(k2.timing.activate, k2.timing.publish);
    assert.equal(k2.timing.syncPublish! - k2.timing.publish!, POLICY.dnskeyTtl + ROLL.publishSafety);
    assert.equal(k1.timing.syncDelete, k2.timing.syncPublish);
    assert.ok(k2.timing.dsPublish !== undefined, 'DSPublish written by ds-seen');
    assert.equal(k1.timing.delete, k2.timing.dsPublish! + ROLL.parentDsTtl + ROLL.retireSafety);
    const both = ph.find((p) => p.published.includes(k2.tag));
    assert.ok(both && both.signing.includes(k1.tag) && both.signing.includes(k2.tag) && String(both.cds) === String([k1.tag]), 'new KSK signs beside the old; CDS still the old');
    const cdsNew = ph.find((p) => String(p.cds) === String([k2.tag]));
    assert.ok(cdsNew && cdsNew.at === k2.timing.syncPublish, 'CDS names the new KSK once ready');
    const ksk1Gone = ph.find((p) => p.at > cdsNew.at && !p.published.includes(k1.tag));
    assert.ok(ksk1Gone && ksk1Gone.at === k1.timing.delete, 'old KSK removed after ds-seen');
    // The parent changed its DS only after being told, and the tell came when CDS switched.
    const told = sim.logs.find((l) => l.msg.includes(`ds-seen roll.test ${k2.tag}`));
    assert.ok(told && told.at === k2.timing.syncPublish, `operator told at ${told?.at}`);
    assert.ok(sim.parent.length >= 3, 'parent DS changed for each KSK rollover');
    assert.match(statusWhileWaiting[0] ?? '', new RegExp(`waiting for the parent: put roll\\.test\\.\\s+\\d+\\s+IN\\s+DS\\s+${k2.tag} 13 2 [0-9A-F]+ .*ds-seen roll\\.test ${k2.tag}`));
  } finally {
    sim.cleanup();
  }
});

test('RFC 7583 §3.3: CSK rollover with a doubled DS set at the parent, NSEC3', async (t) => {
  const origin = Name.parse('csk.test.');
  const failures: string[] = [];
  let checked = 0;
  const roll = { ...ROLL, zskLifetime: 0, kskLifetime: 2 * D };
  const sim = await simulate(
    { origin: 'csk.test.', split: false, denial: 'nsec3', start: T0, end: T0 + 5 * D, policy: POLICY, rollover: roll, parentDelay: 5 * H, seenDelay: 3 * H, parentStyle: 'double' },
    (snap, s) => {
      for (const at of [snap.at - 1, snap.at]) {
        if (at < T0) continue;
        checked++;
        failures.push(...checkInstant(origin, s, at, TTLS).failures);
      }
    },
  );
  try {
    t.diagnostic(`${sim.passes} passes, ${checked} instants; parent DS sets: ${sim.parent.map((p) => p.ds.map((d) => d.keyTag).join('+')).join(' → ')}`);
    assert.deepEqual(failures.slice(0, 5), []);
    const keys = loadZoneKeys(sim.dir, origin);
    assert.ok(keys.length >= 3 && keys.every((k) => k.ksk), 'CSKs only');
    // Doubled, then the old DS dropped once its key left the zone.
    assert.ok(sim.parent.some((p) => p.ds.length === 2), 'parent held both DS');
    assert.equal(sim.parent.at(-1)!.ds.length, 1);
    // While two CSKs are active every RRset carries both signatures.
    const dual = sim.snapshots.find((s) => keyUse(s.records).signing.length === 2);
    assert.ok(dual, 'double signatures during the rollover');
  } finally {
    sim.cleanup();
  }
});

test('planRollover: no lifetime, no rollover; hand-made twin KSKs are not a rollover', () => {
  const zone = Name.parse('plain.test.');
  const ksk = generateZoneKey(zone, 13, true, T0);
  const zsk = generateZoneKey(zone, 13, false, T0);
  const ctx = { dnskeyTtl: H, signatureLifetime: 14 * D, maxZoneTtl: H };
  const p = planRollover([ksk, zsk], DEFAULT_ROLLOVER, ctx, T0 + 400 * D);
  assert.equal(p.created.length, 0);
  assert.equal(p.nextEvent, undefined);
  const twin = generateZoneKey(zone, 13, true, T0);
  const q = planRollover([ksk, twin, zsk], DEFAULT_ROLLOVER, ctx, T0 + D);
  assert.equal(q.waiting.length, 0);
  assert.deepEqual(q.notices, []);
  // With a lifetime: the ZSK rollover starts a DNSKEY TTL + publish-safety before the end.
  const roll = { ...DEFAULT_ROLLOVER, zskLifetime: 10 * D };
  const before = planRollover([ksk, zsk], roll, ctx, T0 + 10 * D - 2 * H - 1);
  assert.equal(before.created.length, 0);
  assert.equal(before.nextEvent, T0 + 10 * D - 2 * H);
  const at = planRollover([ksk, zsk], roll, ctx, T0 + 10 * D - 2 * H);
  assert.equal(at.created.length, 1);
  assert.equal(at.created[0]!.ksk, false);
  const old = at.keys.find((k: ZoneKey) => k.tag === zsk.tag)!;
  assert.equal(old.timing.inactive, T0 + 10 * D);
  assert.equal(at.nextEvent, T0 + 10 * D);
  // A late start (the server was down) never activates before the successor is in every cache.
  const late = planRollover([ksk, zsk], roll, ctx, T0 + 12 * D);
  assert.equal(late.created[0]!.timing.activate, T0 + 12 * D + 2 * H);
});

test('dnssec config: rollover keys parse into the signer settings; too short a lifetime is refused', () => {
  const c = dnssecZoneSchema.parse({ sign: true, keys: 'ksk-zsk', 'zsk-lifetime': '30d', 'ksk-lifetime': '1y'.replace('1y', '365d'), 'publish-safety': '2h', 'parent-ds-ttl': '1h' });
  const s = signerSettings(c, '/zones/x.zone');
  assert.deepEqual(s.rollover, { zskLifetime: 30 * D, kskLifetime: 365 * D, publishSafety: 2 * H, retireSafety: H, parentDsTtl: H });
  const bad = dnssecZoneSchema.safeParse({ sign: true, 'zsk-lifetime': '2h' });
  assert.equal(bad.success, false);
  assert.match(JSON.stringify(bad.error?.issues), /zsk-lifetime must be longer/);
});
