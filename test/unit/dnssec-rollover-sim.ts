// A signed zone living through key rollovers on a virtual clock: a ZoneSigner driven pass by
// pass (at its own refreshAt, and at least hourly), a parent whose DS set the simulated
// operator changes when told, and the `dnssec ds-seen` command run after that. Every snapshot
// is kept so tests can check what any validator could see at any instant, caches included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dsSeenCommand } from '../../src/cli/dnssec.js';
import { makeDs } from '../../src/dnssec/ds.js';
import { keyTag as tagOf } from '../../src/dnssec/keytag.js';
import type { RolloverPolicy } from '../../src/dnssec/rollover.js';
import { ZoneSigner } from '../../src/dnssec/signer-service.js';
import { DEFAULT_POLICY, type SigningPolicy } from '../../src/dnssec/signer.js';
import { DigestType, DnskeyFlags, type DnskeyData, type DsData, type RrsigData } from '../../src/dnssec/types.js';
import { defaultValidationLimits, sigsCovering, validateKeyset, ValidationBudget, verifyRrset } from '../../src/dnssec/validate.js';
import { Name, RRType, type ResourceRecord } from '../../src/wire/index.js';
import { parseZoneText } from '../../src/zone/parser.js';

export interface Snapshot {
  at: number;
  records: ResourceRecord[];
}

export interface ParentState {
  at: number;
  ds: DsData[];
}

export interface SimOptions {
  origin: string;
  split: boolean;
  denial: 'nsec' | 'nsec3';
  start: number;
  end: number;
  policy: Partial<SigningPolicy>;
  rollover: RolloverPolicy;
  /** Seconds after the "put the DS at the parent" notice that the parent changes its DS set. */
  parentDelay: number;
  /** Seconds after the parent's change that the operator runs `ds-seen`. */
  seenDelay: number;
  /** `replace`: parent DS set becomes the new key only; `double`: old and new side by side. */
  parentStyle: 'replace' | 'double';
}

export const zoneText = (origin: string): string => `
$ORIGIN ${origin}
$TTL 3600
@     IN SOA ns hostmaster 1 7200 3600 1209600 300
@     NS   ns
ns    A    192.0.2.1
www   A    192.0.2.2
mail  MX   10 www
*.w   TXT  "wild"
`;

export interface SimResult {
  snapshots: Snapshot[];
  parent: ParentState[];
  logs: Array<{ at: number; msg: string }>;
  /** Times the signer was asked to sign again. */
  passes: number;
  dir: string;
  cleanup(): void;
}

/** Runs the zone from `start` to `end`; `onPass` sees each snapshot as it is made. */
export async function simulate(o: SimOptions, onPass?: (s: Snapshot, sim: SimResult) => void | Promise<void>): Promise<SimResult> {
  const origin = Name.parse(o.origin);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-roll-'));
  const policy: SigningPolicy = { ...DEFAULT_POLICY, denial: o.denial, ...o.policy };
  const logs: Array<{ at: number; msg: string }> = [];
  let t = o.start;
  const signer = new ZoneSigner(origin, { policy, algorithm: 13, split: o.split, keyDirectory: dir, rollover: o.rollover }, (msg) => logs.push({ at: t, msg }));
  const sim: SimResult = { snapshots: [], parent: [], logs, passes: 0, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  const first = signer.sign(parseZoneText(zoneText(o.origin), { origin }), t);
  sim.snapshots.push({ at: t, records: first.records });
  sim.parent.push({ at: t, ds: signer.currentKeys.filter((k) => k.ksk).map((k) => makeDs(origin, k.dnskey, DigestType.SHA256)) });
  await onPass?.(sim.snapshots[0]!, sim);
  let parentChangeAt: number | undefined;
  let seenAt: number | undefined;
  let waitingFor: number | undefined;
  while (t < o.end) {
    const due = signer.refreshAt ?? t + 3600;
    const events = [due, t + 3600];
    if (parentChangeAt !== undefined && parentChangeAt > t) events.push(parentChangeAt);
    if (seenAt !== undefined && seenAt > t) events.push(seenAt);
    t = Math.max(t + 1, Math.min(...events));
    if (parentChangeAt !== undefined && t >= parentChangeAt && waitingFor !== undefined) {
      const succ = signer.currentKeys.find((k) => k.tag === waitingFor)!;
      const now = makeDs(origin, succ.dnskey, DigestType.SHA256);
      const before = sim.parent.at(-1)!.ds;
      sim.parent.push({ at: t, ds: o.parentStyle === 'double' ? [...before, now] : [now] });
      parentChangeAt = undefined;
      seenAt = t + o.seenDelay;
    }
    if (seenAt !== undefined && t >= seenAt && waitingFor !== undefined) {
      const out = { stdout: { write: () => true }, stderr: { write: (s: string) => logs.push({ at: t, msg: `ds-seen: ${s}` }) } };
      const rc = await dsSeenCommand(origin, waitingFor, { dir, now: t }, out);
      if (rc !== 0) throw new Error(`ds-seen exited ${rc}`);
      seenAt = undefined;
      waitingFor = undefined;
    }
    const r = signer.refresh(t);
    sim.passes++;
    const snap = { at: t, records: r.records };
    sim.snapshots.push(snap);
    const w = signer.waitingForDs[0];
    if (w && waitingFor === undefined && parentChangeAt === undefined && seenAt === undefined) {
      waitingFor = w.successor.tag;
      parentChangeAt = t + o.parentDelay;
    }
    if (!w && parentStateAfterRoll(sim, origin, signer)) {
      // The old key is gone from the zone: the operator removes its DS from a doubled set.
      const keys = signer.currentKeys.filter((k) => k.ksk && (k.timing.delete === undefined || k.timing.delete > t));
      const ds = sim.parent.at(-1)!.ds.filter((d) => keys.some((k) => k.tag === d.keyTag));
      sim.parent.push({ at: t, ds });
    }
    await onPass?.(snap, sim);
  }
  return sim;
}

/** A doubled DS set that names a key no longer in the zone. */
function parentStateAfterRoll(sim: SimResult, origin: Name, signer: ZoneSigner): boolean {
  const last = sim.parent.at(-1)!;
  const live = signer.currentKeys.filter((k) => k.ksk && !(k.timing.delete !== undefined && k.timing.delete <= sim.snapshots.at(-1)!.at));
  return last.ds.length > 1 && last.ds.some((d) => !live.some((k) => k.tag === d.keyTag && makeDs(origin, k.dnskey, d.digestType).digest.every((b, i) => b === d.digest[i])));
}

/** The states in effect at some time in [t - ttl, t]: the last one at or before t - ttl, and all after it. */
export function inWindow<T extends { at: number }>(list: readonly T[], t: number, ttl: number): T[] {
  const from = t - ttl;
  let i = list.length - 1;
  while (i > 0 && list[i]!.at > from) i--;
  return list.slice(i).filter((s) => s.at <= t);
}

/** RRsets of a signed zone by owner/type, and the RRSIG records. */
export function rrsets(records: readonly ResourceRecord[]): { sets: Map<string, ResourceRecord[]>; sigs: ResourceRecord[] } {
  const sets = new Map<string, ResourceRecord[]>();
  const sigs: ResourceRecord[] = [];
  for (const rr of records) {
    if (rr.type === RRType.RRSIG) {
      sigs.push(rr);
      continue;
    }
    const k = `${rr.name.key}/${rr.type}`;
    let l = sets.get(k);
    if (!l) sets.set(k, (l = []));
    l.push(rr);
  }
  return { sets, sigs };
}

/**
 * What a validator may see at `t`: a DS set cached from the parent, a DNSKEY set cached from
 * the zone, and data from the zone, each from any time within its TTL. Every combination must
 * validate. Returns the failures (empty when the zone is secure for everyone at `t`).
 */
export function checkInstant(origin: Name, sim: { snapshots: readonly Snapshot[]; parent: readonly ParentState[] }, t: number, ttls: { ds: number; dnskey: number; data: number }): { combos: number; failures: string[] } {
  const failures: string[] = [];
  let combos = 0;
  const budget = () => new ValidationBudget({ ...defaultValidationLimits, maxValidations: 100000 });
  const dataSnaps = inWindow(sim.snapshots, t, ttls.data);
  for (const p of inWindow(sim.parent, t, ttls.ds)) {
    for (const k of inWindow(sim.snapshots, t, ttls.dnskey)) {
      const { sets, sigs } = rrsets(k.records);
      const dnskeys = sets.get(`${origin.key}/${RRType.DNSKEY}`) ?? [];
      const ks = validateKeyset(origin, dnskeys, sigsCovering(sigs, origin, RRType.DNSKEY), p.ds, [], t, budget());
      if (ks.security !== 'secure') {
        failures.push(`t=${t}: DNSKEY of ${k.at} with DS of ${p.at} (${p.ds.map((d) => d.keyTag).join(',')}): ${ks.ede.text}`);
        continue;
      }
      for (const d of dataSnaps) {
        combos++;
        const data = rrsets(d.records);
        for (const [key, set] of data.sets) {
          const first = set[0]!;
          // NS at a cut and glue are not signed; this zone has none. Every set is signed.
          const v = verifyRrset(set, sigsCovering(data.sigs, first.name, first.type), ks.keys, origin, t, budget());
          if (!v.ok) failures.push(`t=${t}: ${key} of ${d.at} with DNSKEY of ${k.at}: ${v.ede.text}`);
        }
      }
    }
  }
  return { combos, failures };
}

/** The tags of the DNSKEYs in a snapshot, and of the keys that made RRSIGs. */
export function keyUse(records: readonly ResourceRecord[]): { published: number[]; signing: number[]; sep: number[]; cds: number[] } {
  const published: number[] = [];
  const sep: number[] = [];
  const signing = new Set<number>();
  const cds: number[] = [];
  for (const rr of records) {
    if (rr.type === RRType.DNSKEY) {
      const d = rr.data as DnskeyData;
      published.push(tagOf(d));
      if (d.flags & DnskeyFlags.SEP) sep.push(tagOf(d));
    } else if (rr.type === RRType.RRSIG) signing.add((rr.data as RrsigData).keyTag);
    else if (rr.type === RRType.CDS) cds.push((rr.data as DsData).keyTag);
  }
  return { published: published.sort((a, b) => a - b), signing: [...signing].sort((a, b) => a - b), sep, cds };
}
