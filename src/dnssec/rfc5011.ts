import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Name, RRType, type ResourceRecord } from '../wire/index.js';
import { dsMatches } from './ds.js';
import { keyTag } from './keytag.js';
import { TrustAnchorError, TrustAnchors, type TrustAnchor } from './trust-anchors.js';
import { DnskeyFlags, type DnskeyData, type DsData, type RrsigData } from './types.js';
import { verifyRrsig } from './verify.js';

/**
 * RFC 5011 automated updates of trust anchors. A trust-anchors file marked with a line
 * `; rfc5011: managed` is tracked: every time the validator fetches and validates an anchored
 * zone's DNSKEY RRset, new SEP keys start a 30-day add hold-down and become trust anchors when
 * they are still there after it; a key that signs the RRset with its REVOKE bit set stops being
 * one at once; a trusted key that leaves the RRset stays trusted ("missing") until revoked.
 * The state lives in `<file>.state` (JSON) beside the anchors file; the anchors file itself is
 * never rewritten. Unmarked files are static anchors, as before.
 */

/** RFC 5011 §2.4.1: the add hold-down, and §4 the remove hold-down, 30 days. */
export const HOLD_DOWN = 30 * 86400;

export const MANAGED_MARKER = /^\s*;\s*rfc5011:\s*managed\b/im;

export type AnchorKeyState = 'addpend' | 'valid' | 'missing' | 'revoked';

export interface TrackedKey {
  /** The key as first trusted, REVOKE bit clear. */
  dnskey: DnskeyData;
  state: AnchorKeyState;
  /** When the key entered its state (seconds). */
  since: number;
}

interface ZoneState {
  zone: Name;
  /** DS anchors from the file not yet matched to a tracked key. */
  ds: DsData[];
  keys: TrackedKey[];
}

const withoutRevoke = (k: DnskeyData): DnskeyData => ({ ...k, flags: k.flags & ~DnskeyFlags.REVOKE });
const sameKey = (a: DnskeyData, b: DnskeyData): boolean =>
  a.algorithm === b.algorithm && (a.flags & ~DnskeyFlags.REVOKE) === (b.flags & ~DnskeyFlags.REVOKE) && Buffer.from(a.publicKey).equals(Buffer.from(b.publicKey));
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

export class ManagedTrustAnchors extends TrustAnchors {
  private readonly zonesState = new Map<string, ZoneState>();
  /** Transitions, for the log and tests: `zone tag from→to`. */
  readonly events: string[] = [];

  constructor(readonly stateFile: string | undefined, configured: TrustAnchors, now: number, readonly holdDown = HOLD_DOWN) {
    super();
    for (const zone of configured.zones) {
      const a = configured.get(zone)!;
      this.zonesState.set(zone.key, { zone, ds: [...a.ds], keys: a.keys.map((k) => ({ dnskey: withoutRevoke(k), state: 'valid', since: now })) });
    }
    if (stateFile && existsSync(stateFile)) this.readState(stateFile);
  }

  /** The anchors in effect: DS anchors not yet tied to a key, and keys in state valid or missing. */
  override get(zone: Name): TrustAnchor | undefined {
    const s = this.zonesState.get(zone.key);
    if (!s) return undefined;
    return { zone: s.zone, ds: s.ds, keys: s.keys.filter((k) => k.state === 'valid' || k.state === 'missing').map((k) => k.dnskey) };
  }

  override closest(name: Name): TrustAnchor | undefined {
    for (let n = name; ; n = n.parent()) {
      const a = this.get(n);
      if (a) return a;
      if (n.isRoot) return undefined;
    }
  }

  override get size(): number {
    return this.zonesState.size;
  }

  override get zones(): Name[] {
    return [...this.zonesState.values()].map((s) => s.zone);
  }

  /** The tracked keys of a zone (copies). */
  tracked(zone: Name): TrackedKey[] {
    return (this.zonesState.get(zone.key)?.keys ?? []).map((k) => ({ ...k }));
  }

  /**
   * One fetch of an anchored zone's DNSKEY RRset that the validator found secure, with its
   * RRSIGs. Applies RFC 5011 §4; saves the state file when anything changed. Returns whether it did.
   */
  override observe(zone: Name, dnskeys: readonly ResourceRecord[], sigs: readonly RrsigData[], now: number): boolean {
    const s = this.zonesState.get(zone.key);
    if (!s) return false;
    const rrset = dnskeys.filter((r) => r.type === RRType.DNSKEY && !(r.data instanceof Uint8Array));
    const present = rrset.map((r) => r.data as DnskeyData).filter((k) => k.flags & DnskeyFlags.ZONE && k.flags & DnskeyFlags.SEP);
    let changed = false;
    const move = (k: TrackedKey, state: AnchorKeyState): void => {
      this.events.push(`${zone} ${keyTag(k.dnskey)} ${k.state}→${state}`);
      k.state = state;
      k.since = now;
      changed = true;
    };
    const selfSigned = (k: DnskeyData): boolean => sigs.some((sig) => verifyRrsig(rrset, sig, zone, k, now).ok);

    // §2.1: a revoked key that signs the RRset itself is no trust anchor from now on.
    for (const k of present) {
      if (!(k.flags & DnskeyFlags.REVOKE) || !selfSigned(k)) continue;
      const t = s.keys.find((x) => sameKey(x.dnskey, k));
      if (t && t.state !== 'revoked') move(t, 'revoked');
      else if (!t) {
        const ds = s.ds.findIndex((d) => dsMatches(zone, d, withoutRevoke(k)));
        if (ds >= 0) {
          s.ds.splice(ds, 1);
          s.keys.push({ dnskey: withoutRevoke(k), state: 'revoked', since: now });
          this.events.push(`${zone} ${keyTag(withoutRevoke(k))} ds→revoked`);
          changed = true;
        }
      }
    }
    // Additions need the RRset signed by a key trusted now (not revoked), §2.2.
    const trusted = s.keys.filter((k) => k.state === 'valid' || k.state === 'missing').map((k) => k.dnskey);
    const vouched = present.filter((k) => !(k.flags & DnskeyFlags.REVOKE) && s.ds.some((d) => dsMatches(zone, d, k)));
    const signedByTrusted = [...trusted, ...vouched].some((k) => present.some((p) => !(p.flags & DnskeyFlags.REVOKE) && sameKey(p, k)) && selfSigned(k));
    if (signedByTrusted) {
      for (const k of present) {
        if (k.flags & DnskeyFlags.REVOKE) continue;
        const t = s.keys.find((x) => sameKey(x.dnskey, k));
        if (!t) {
          const ds = s.ds.findIndex((d) => dsMatches(zone, d, k));
          if (ds >= 0) {
            // The configured DS becomes the key it names, tracked from now on.
            s.ds.splice(ds, 1);
            s.keys.push({ dnskey: k, state: 'valid', since: now });
            this.events.push(`${zone} ${keyTag(k)} ds→valid`);
          } else {
            s.keys.push({ dnskey: k, state: 'addpend', since: now });
            this.events.push(`${zone} ${keyTag(k)} start→addpend`);
          }
          changed = true;
        } else if (t.state === 'addpend' && now - t.since >= this.holdDown) move(t, 'valid');
        else if (t.state === 'missing') move(t, 'valid');
      }
      for (const t of [...s.keys]) {
        if (present.some((k) => sameKey(k, t.dnskey))) continue;
        // §4: a pending key that leaves starts over; a trusted one is kept as missing.
        if (t.state === 'addpend') {
          s.keys.splice(s.keys.indexOf(t), 1);
          this.events.push(`${zone} ${keyTag(t.dnskey)} addpend→start`);
          changed = true;
        } else if (t.state === 'valid') move(t, 'missing');
      }
    }
    // §4: a revoked key is forgotten after the remove hold-down.
    for (const t of [...s.keys]) {
      if (t.state === 'revoked' && now - t.since >= this.holdDown && !present.some((k) => sameKey(k, t.dnskey))) {
        s.keys.splice(s.keys.indexOf(t), 1);
        this.events.push(`${zone} ${keyTag(t.dnskey)} revoked→removed`);
        changed = true;
      }
    }
    if (changed && this.stateFile) this.writeState(this.stateFile);
    return changed;
  }

  /** When the next pending key reaches the end of its hold-down (seconds), if any. */
  nextHoldDown(): number | undefined {
    let at: number | undefined;
    for (const s of this.zonesState.values()) for (const k of s.keys) if (k.state === 'addpend' && (at === undefined || k.since + this.holdDown < at)) at = k.since + this.holdDown;
    return at;
  }

  private writeState(file: string): void {
    const doc = {
      format: 'portcullis-rfc5011 1',
      zones: [...this.zonesState.values()].map((s) => ({
        zone: s.zone.toString(),
        ds: s.ds.map((d) => `${d.keyTag} ${d.algorithm} ${d.digestType} ${Buffer.from(d.digest).toString('hex').toUpperCase()}`),
        keys: s.keys.map((k) => ({ tag: keyTag(k.dnskey), state: k.state, since: k.since, dnskey: `${k.dnskey.flags} ${k.dnskey.protocol} ${k.dnskey.algorithm} ${b64(k.dnskey.publicKey)}` })),
      })),
    };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n');
    renameSync(tmp, file);
  }

  private readState(file: string): void {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new TrustAnchorError(`${file}:1:1`, `cannot read the RFC 5011 state: ${(e as Error).message}`);
    }
    const zones = (doc as { zones?: unknown }).zones;
    if (!Array.isArray(zones)) throw new TrustAnchorError(`${file}:1:1`, 'RFC 5011 state: no "zones" list');
    for (const z of zones as Array<{ zone?: string; ds?: string[]; keys?: Array<{ state?: string; since?: number; dnskey?: string }> }>) {
      let zone: Name;
      try {
        zone = Name.parse(String(z.zone));
      } catch {
        throw new TrustAnchorError(`${file}:1:1`, `RFC 5011 state: bad zone ${String(z.zone)}`);
      }
      // The file's anchors decide which zones are tracked; state for other zones is dropped.
      const s = this.zonesState.get(zone.key);
      if (!s) continue;
      s.ds = (z.ds ?? []).map((text) => {
        const [tag, alg, dt, hex] = text.split(' ');
        return { keyTag: Number(tag), algorithm: Number(alg), digestType: Number(dt), digest: new Uint8Array(Buffer.from(hex ?? '', 'hex')) };
      });
      s.keys = (z.keys ?? []).map((k) => {
        const [flags, protocol, algorithm, key] = String(k.dnskey).split(' ');
        const state = k.state as AnchorKeyState;
        if (!['addpend', 'valid', 'missing', 'revoked'].includes(state) || typeof k.since !== 'number' || !key) {
          throw new TrustAnchorError(`${file}:1:1`, `RFC 5011 state: bad key entry for ${zone}`);
        }
        return { dnskey: { flags: Number(flags), protocol: Number(protocol), algorithm: Number(algorithm), publicKey: new Uint8Array(Buffer.from(key, 'base64')) }, state, since: k.since };
      });
    }
  }
}

/**
 * Loads a trust-anchors file: static anchors, or RFC 5011-managed ones (state in `FILE.state`)
 * when the file carries the `; rfc5011: managed` line.
 */
export function loadTrustAnchorFile(file: string, now = Math.floor(Date.now() / 1000)): TrustAnchors {
  const anchors = TrustAnchors.load(file);
  const text = readFileSync(file, 'utf8');
  return MANAGED_MARKER.test(text) ? new ManagedTrustAnchors(`${file}.state`, anchors, now) : anchors;
}
