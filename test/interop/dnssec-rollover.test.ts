// Key rollovers checked by BIND: the virtual-clock rollover of test/unit/dnssec-rollover.test.ts
// (ZSK pre-publish and KSK double signature, KSK+ZSK, NSEC3), run over the six days before
// now so every snapshot's signatures are valid today; each distinct key phase of the zone is
// written out and must pass `dnssec-verify`. A copy with one signature changed must fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Name, RRType } from '../../src/wire/index.js';
import { printZone } from '../../src/zone/printer.js';
import { keyUse, simulate } from '../unit/dnssec-rollover-sim.js';

const H = 3600;
const D = 86400;

test('RFC 7583 rollovers: dnssec-verify accepts the zone in every key phase', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v dnssec-verify']).status !== 0) {
    if (process.env.CI === 'true') assert.fail('peer binary missing: dnssec-verify');
    t.skip('peer binary missing: dnssec-verify');
    return;
  }
  const now = Math.floor(Date.now() / 1000);
  const origin = Name.parse('roll.test.');
  const phases: Array<{ at: number; file: string; what: string }> = [];
  let last = '';
  const sim = await simulate(
    {
      origin: 'roll.test.', split: true, denial: 'nsec3', start: now - 6 * D, end: now - H, parentDelay: 2 * H, seenDelay: H, parentStyle: 'replace',
      policy: { signatureLifetime: 14 * D, signatureRefresh: 5 * D, signatureJitter: H, dnskeyTtl: H },
      rollover: { zskLifetime: 2 * D, kskLifetime: 3 * D, publishSafety: H, retireSafety: H, parentDsTtl: 2 * H },
    },
    (snap, s) => {
      const u = keyUse(snap.records);
      const what = `published ${u.published} signing ${u.signing} cds ${u.cds}`;
      if (what === last) return;
      last = what;
      const file = join(s.dir, `phase-${phases.length}.zone`);
      writeFileSync(file, printZone(snap.records, { origin }));
      phases.push({ at: snap.at, file, what });
    },
  );
  try {
    const failures: string[] = [];
    for (const p of phases) {
      const r = spawnSync('dnssec-verify', ['-q', '-o', 'roll.test.', p.file], { encoding: 'utf8' });
      if (r.status !== 0) failures.push(`${(p.at - now) / H}h (${p.what}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    t.diagnostic(`${phases.length} key phases over 6 days verified:\n${phases.map((p) => `${((p.at - now) / H).toFixed(0)}h ${p.what}`).join('\n')}`);
    assert.ok(phases.length >= 6, `phases seen: ${phases.length}`);
    assert.deepEqual(failures, []);
    // The control: dnssec-verify does fail a changed signature.
    const snap = sim.snapshots.at(-1)!;
    let flipped = false;
    const broken = snap.records.map((rr) => {
      if (flipped || rr.type !== RRType.RRSIG || !rr.name.equals(origin)) return rr;
      flipped = true;
      const d = rr.data as { signature: Uint8Array };
      const sig = Uint8Array.from(d.signature);
      sig[3]! ^= 1;
      return { ...rr, data: { ...rr.data as object, signature: sig } };
    });
    const bad = join(sim.dir, 'broken.zone');
    writeFileSync(bad, printZone(broken, { origin }));
    assert.notEqual(spawnSync('dnssec-verify', ['-q', '-o', 'roll.test.', bad]).status, 0, 'dnssec-verify rejects a changed signature');
  } finally {
    sim.cleanup();
  }
});
