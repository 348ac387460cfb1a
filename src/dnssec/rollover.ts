import { bindTime, generateZoneKey, type KeyTiming, type ZoneKey } from './keys.js';
import { dsRecords } from './signer.js';
import { recordToText } from '../wire/index.js';

/**
 * Automatic key rollovers (RFC 6781 §4.1, RFC 7583), written as timing metadata into the key
 * files, which the signer already obeys. The plan is derived from the keys' timing alone (no
 * state of its own), so a restart, a reload or an operator's `dnssec-settime` picks up where
 * the keys say the rollover is.
 *
 * - ZSK pre-publish (RFC 7583 §3.2): the successor is published `dnskey-ttl + publish-safety`
 *   before the old key's lifetime ends, then takes over signing at once (the whole zone is
 *   re-signed in that pass); the old key stays published for `signature-lifetime + max zone
 *   TTL + retire-safety` (secondaries and caches may still hold its signatures) and is removed.
 * - KSK/CSK (RFC 7583 §3.3 double-KSK, with the parent's DS changed or doubled): the successor
 *   is published and signs beside the old key at once; once every cache can have its DNSKEY
 *   (`dnskey-ttl + publish-safety`) its CDS/CDNSKEY replace the old key's, and the operator is
 *   told to put its DS at the parent and to
 *   confirm with `portcullis dnssec ds-seen ZONE TAG` (recorded as `DSPublish`); the old key
 *   retires `parent-ds-ttl + retire-safety` after that, when no cache can hold only the old DS.
 */

export interface RolloverPolicy {
  /** Seconds a ZSK signs before it is replaced; 0: never rolled automatically. */
  zskLifetime: number;
  /** Seconds a KSK (or CSK) signs before it is replaced; 0: never rolled automatically. */
  kskLifetime: number;
  /** Margin on top of the DNSKEY TTL before a new key is used (propagation to secondaries). */
  publishSafety: number;
  /** Margin on top of TTLs before an old key is withdrawn. */
  retireSafety: number;
  /** TTL of the DS RRset at the parent (validators may cache the old DS set that long). */
  parentDsTtl: number;
}

export const DEFAULT_ROLLOVER: Readonly<RolloverPolicy> = Object.freeze({
  zskLifetime: 0,
  kskLifetime: 0,
  publishSafety: 3600,
  retireSafety: 3600,
  parentDsTtl: 86400,
});

/** What the rollover needs from the signing policy and the zone. */
export interface RolloverContext {
  dnskeyTtl: number;
  signatureLifetime: number;
  /** The largest TTL in the signed zone (caches hold signatures that long). */
  maxZoneTtl: number;
  /** Makes a key pair (default: `generateZoneKey`); timing is set by the plan. */
  generate?: (ksk: boolean, algorithm: number, now: number) => ZoneKey;
}

export type KeyRole = 'ksk' | 'zsk' | 'csk';

/** A KSK/CSK rollover that waits for the operator to change the parent's DS set. */
export interface DsWait {
  old: ZoneKey;
  successor: ZoneKey;
  /** The DS records to put at the parent (SHA-256). */
  ds: string[];
  /** The earliest the parent may switch: every cache holds the successor's DNSKEY and signature. */
  since: number;
}

export interface RolloverPlan {
  /** Every key after the plan (changed timing, successors added). */
  keys: ZoneKey[];
  /** New keys and keys whose timing changed: to be written to the key directory. */
  changed: ZoneKey[];
  /** New keys among `changed`. */
  created: ZoneKey[];
  /** Operator messages for this pass (each names its key; a caller logs each once). */
  notices: string[];
  /** Rollovers waiting for `ds-seen`. */
  waiting: DsWait[];
  /** When the plan must run again (a timing event or a rollover start), if ever. */
  nextEvent: number | undefined;
}

/** How often a rollover waiting for the operator's `ds-seen` looks at the key files again. */
export const DS_POLL_INTERVAL = 3600;

const published = (k: ZoneKey, now: number): boolean =>
  (k.timing.publish === undefined || k.timing.publish <= now) && (k.timing.delete === undefined || k.timing.delete > now);
const active = (k: ZoneKey, now: number): boolean =>
  published(k, now) && (k.timing.activate === undefined || k.timing.activate <= now) && (k.timing.inactive === undefined || k.timing.inactive > now);
const removed = (k: ZoneKey, now: number): boolean => k.timing.delete !== undefined && k.timing.delete <= now;
const activation = (k: ZoneKey): number => k.timing.activate ?? k.timing.publish ?? k.timing.created ?? 0;

/** The role of each key: SEP keys are KSKs when the zone has ZSKs of their algorithm, else CSKs. */
export function keyRole(k: ZoneKey, keys: readonly ZoneKey[]): KeyRole {
  if (!k.ksk) return 'zsk';
  return keys.some((o) => !o.ksk && o.key.algorithm === k.key.algorithm) ? 'ksk' : 'csk';
}

export type KeyState = 'created' | 'published' | 'active' | 'retired' | 'removed';

/** Where a key is in its life at `now`. */
export function keyState(k: ZoneKey, now: number): KeyState {
  if (removed(k, now)) return 'removed';
  if (k.timing.inactive !== undefined && k.timing.inactive <= now) return 'retired';
  if (active(k, now)) return 'active';
  if (published(k, now)) return 'published';
  return 'created';
}

/**
 * Plans the rollovers due at `now`: starts a rollover whose time has come (a successor key with
 * its schedule, the predecessor's retirement), finishes a KSK rollover the operator confirmed,
 * and says when to look again. Pure apart from key generation; the caller saves `changed`.
 */
export function planRollover(keys: readonly ZoneKey[], policy: RolloverPolicy, ctx: RolloverContext, now: number): RolloverPlan {
  now = Math.floor(now);
  const out: ZoneKey[] = [...keys];
  const changed = new Map<string, ZoneKey>();
  const created: ZoneKey[] = [];
  const notices: string[] = [];
  const waiting: DsWait[] = [];
  const events: number[] = [];
  const generate = ctx.generate ?? ((ksk: boolean, alg: number, t: number) => generateZoneKey(keys[0]!.zone, alg, ksk, t));
  const prepublish = ctx.dnskeyTtl + policy.publishSafety;

  const retime = (k: ZoneKey, timing: Partial<KeyTiming>): ZoneKey => {
    const next: ZoneKey = { ...k, timing: { ...k.timing, ...timing } };
    const i = out.findIndex((o) => o.base === k.base);
    out[i] = next;
    changed.set(next.base, next);
    return next;
  };
  const add = (k: ZoneKey): void => {
    out.push(k);
    changed.set(k.base, k);
    created.push(k);
  };

  // One rollover chain per (algorithm, role).
  const groups = new Map<string, ZoneKey[]>();
  for (const k of keys) {
    if (removed(k, now)) continue;
    const g = `${k.key.algorithm}/${k.ksk ? 'sep' : 'zsk'}`;
    let l = groups.get(g);
    if (!l) groups.set(g, (l = []));
    l.push(k);
  }

  for (const group of groups.values()) {
    const sep = group[0]!.ksk;
    const role = keyRole(group[0]!, keys);
    const label = role.toUpperCase();
    const lifetime = sep ? policy.kskLifetime : policy.zskLifetime;
    const current = group.filter((k) => active(k, now)).sort((a, b) => activation(a) - activation(b) || a.tag - b.tag);
    const pending = group.filter((k) => !active(k, now) && (k.timing.inactive === undefined || k.timing.inactive > now) && activation(k) > now);
    if (current.length === 0) continue; // nothing signs: the signer makes a first key

    if (!sep) {
      const cur = current[current.length - 1]!;
      const succ = pending.sort((a, b) => activation(a) - activation(b))[0];
      if (succ) {
        // A rollover under way: make sure the predecessor hands over at the successor's start.
        if (current.length === 1 && cur.timing.inactive === undefined) retireZsk(cur, activation(succ));
        continue;
      }
      if (lifetime <= 0 || cur.timing.inactive !== undefined) continue;
      const end = activation(cur) + lifetime;
      const start = end - prepublish;
      if (now < start) {
        events.push(start);
        continue;
      }
      const next = generate(false, cur.key.algorithm, now);
      const activate = Math.max(end, now + prepublish);
      add({ ...next, timing: { created: now, publish: now, activate } });
      retireZsk(cur, activate);
      notices.push(`${label} rollover: ${next.base} published, signs from ${iso(activate)}; ${cur.base} retires then`);
      continue;
    }

    // KSK / CSK.
    if (pending.length > 0) continue; // successor published, not yet signing: its Activate is an event
    const old = current[0]!;
    const succ = current[current.length - 1]!;
    // Two signing keys are a rollover when the plan made them so (CDS moved to the newer one);
    // keys an operator runs side by side on purpose are left alone.
    if (current.length >= 2 && (old.timing.syncDelete !== undefined || succ.timing.syncPublish !== undefined)) {
      if (succ.timing.syncPublish !== undefined && succ.timing.syncPublish > now) continue; // not yet in every cache
      const seen = succ.timing.dsPublish;
      if (seen !== undefined && seen <= now) {
        if (old.timing.inactive === undefined) {
          const until = Math.max(now, seen + policy.parentDsTtl + policy.retireSafety);
          retime(old, { inactive: until, delete: until, syncDelete: Math.min(old.timing.syncDelete ?? now, now) });
          notices.push(`${label} rollover: DS of ${succ.tag} seen at the parent; ${old.base} retires ${iso(until)} (remove its DS from the parent then)`);
        }
        continue;
      }
      const ds = dsRecords([succ], policy.parentDsTtl, [2]).map((rr) => recordToText(rr));
      waiting.push({ old, successor: succ, ds, since: succ.timing.syncPublish ?? activation(succ) });
      notices.push(
        `${label} rollover: put the DS of key ${succ.tag} at the parent (${ds.join(' | ')}), replacing or beside that of ${old.tag}; ` +
          `then run \`portcullis dnssec ds-seen ${zoneText(succ)} ${succ.tag}\``,
      );
      events.push(now + DS_POLL_INTERVAL);
      continue;
    }
    const cur = current[0]!;
    if (lifetime <= 0 || cur.timing.inactive !== undefined) continue;
    const start = activation(cur) + lifetime - prepublish;
    if (now < start) {
      events.push(start);
      continue;
    }
    const next = generate(true, cur.key.algorithm, now);
    // Double signature: the successor signs from the start beside the old key (a cache holding
    // the old DNSKEY set still finds the old key's signature), so it needs no pre-publication.
    // The parent may switch only when every cache holds the new DNSKEY set with its signature:
    // from then on, CDS/CDNSKEY name the successor and the old key's are withdrawn.
    const ready = now + prepublish;
    add({ ...next, timing: { created: now, publish: now, activate: now, syncPublish: ready } });
    retime(cur, { syncDelete: ready });
    notices.push(`${label} rollover: ${next.base} published and signing; from ${iso(ready)} its DS goes to the parent`);
  }

  // Every future timing event of a live key is a time to sign again.
  for (const k of out) {
    for (const t of Object.values(k.timing)) if (t !== undefined && t > now) events.push(t);
  }
  const nextEvent = events.length ? Math.min(...events) : undefined;
  return { keys: out, changed: [...changed.values()], created, notices, waiting, nextEvent };

  function retireZsk(k: ZoneKey, at: number): void {
    // RFC 7583 §3.2.1: the old key's signatures live on in caches (max TTL) and in secondaries
    // that missed the change until they expire (signature lifetime).
    retime(k, { inactive: at, delete: at + ctx.signatureLifetime + ctx.maxZoneTtl + policy.retireSafety });
  }
}

/** Records the operator's confirmation that the parent publishes the DS of key `tag`. */
export function markDsSeen(keys: readonly ZoneKey[], tag: number, now: number): ZoneKey {
  const k = keys.find((x) => x.tag === tag && x.ksk && !removed(x, now));
  if (!k) throw new RangeError(`no key-signing key with tag ${tag}`);
  return { ...k, timing: { ...k.timing, dsPublish: now } };
}

/** Lines for `portcullis dnssec status`: each key's role, state and schedule, and what waits for the operator. */
export function describeKeys(keys: readonly ZoneKey[], policy: RolloverPolicy, ctx: Omit<RolloverContext, 'generate'>, now: number): string[] {
  const lines: string[] = [];
  for (const k of keys) {
    const t = k.timing;
    const when = (label: string, v: number | undefined) => (v === undefined ? [] : [`${label} ${iso(v)}`]);
    lines.push(
      `${k.base} ${keyRole(k, keys)} tag ${k.tag} ${keyState(k, now)}: ` +
        [...when('published', t.publish), ...when('active', t.activate), ...when('inactive', t.inactive), ...when('removed', t.delete),
          ...when('cds', t.syncPublish), ...when('cds-withdrawn', t.syncDelete), ...when('ds-seen', t.dsPublish)].join(', '),
    );
  }
  // A dry run (no key made) says what waits and what comes next.
  const plan = planRollover(keys, policy, { ...ctx, generate: (ksk, alg) => ({ ...keys.find((k) => k.ksk === ksk && k.key.algorithm === alg)!, base: '(new key)' }) }, now);
  for (const w of plan.waiting) {
    lines.push(`waiting for the parent: put ${w.ds.join(' | ')} at the parent, then run \`portcullis dnssec ds-seen ${zoneText(w.successor)} ${w.successor.tag}\` (key ${w.old.tag} retires after that)`);
  }
  if (plan.created.length) lines.push(`due now: ${plan.notices.join('; ')}`);
  if (plan.nextEvent !== undefined && plan.waiting.length === 0) lines.push(`next event: ${iso(plan.nextEvent)}`);
  return lines;
}

function iso(t: number): string {
  return `${new Date(t * 1000).toISOString().replace('.000Z', 'Z')} (${bindTime(t)})`;
}

function zoneText(k: ZoneKey): string {
  return k.zone.isRoot ? '.' : k.zone.toString().slice(0, -1);
}
