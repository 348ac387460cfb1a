import { readFileSync } from 'node:fs';
import { Name, recordFromText, RRType, type ResourceRecord } from '../wire/index.js';
import type { DnskeyData, DsData, RrsigData } from './types.js';

/**
 * Trust anchors (RFC 4033 §2, RFC 7958) and negative trust anchors (RFC 7646). Anchors are DS or
 * DNSKEY records in zone-file syntax; the built-in ones are the root zone's KSKs as published
 * by IANA (KSK-2017, tag 20326, and KSK-2024, tag 38696).
 */

export const ROOT_ANCHORS_TEXT = [
  '. 86400 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D',
  '. 86400 IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16',
];

export interface TrustAnchor {
  readonly zone: Name;
  readonly ds: DsData[];
  readonly keys: DnskeyData[];
}

export class TrustAnchorError extends Error {
  constructor(readonly location: string, message: string) {
    super(`${location}: ${message}`);
    this.name = 'TrustAnchorError';
  }
}

export class TrustAnchors {
  private readonly byZone = new Map<string, TrustAnchor>();

  /** Adds one DS or DNSKEY record (other types are rejected). */
  add(rr: ResourceRecord): void {
    if (rr.data instanceof Uint8Array || (rr.type !== RRType.DS && rr.type !== RRType.DNSKEY)) throw new RangeError(`trust anchor must be DS or DNSKEY, not type ${rr.type}`);
    let a = this.byZone.get(rr.name.key);
    if (!a) this.byZone.set(rr.name.key, (a = { zone: rr.name, ds: [], keys: [] }));
    if (rr.type === RRType.DS) a.ds.push(rr.data as DsData);
    else a.keys.push(rr.data as DnskeyData);
  }

  get size(): number {
    return this.byZone.size;
  }

  get zones(): Name[] {
    return [...this.byZone.values()].map((a) => a.zone);
  }

  /** The anchor at exactly this zone. */
  get(zone: Name): TrustAnchor | undefined {
    return this.byZone.get(zone.key);
  }

  /**
   * The validator saw `zone`'s DNSKEY RRset validated against this anchor (RFC 5011 tracking
   * hooks in here, `rfc5011.ts`); static anchors ignore it. Returns whether anything changed.
   */
  observe(_zone: Name, _dnskeys: readonly ResourceRecord[], _sigs: readonly RrsigData[], _now: number): boolean {
    return false;
  }

  /** The closest anchor at or above `name`, if any. */
  closest(name: Name): TrustAnchor | undefined {
    for (let n = name; ; n = n.parent()) {
      const a = this.byZone.get(n.key);
      if (a) return a;
      if (n.isRoot) return undefined;
    }
  }

  /**
   * Parses anchors from zone-file text: one DS or DNSKEY record a line, `;` comments, `$ORIGIN`
   * and `$TTL` lines ignored or honoured as in a zone file. Errors name the line.
   */
  static parse(text: string, source = 'trust-anchors'): TrustAnchors {
    const t = new TrustAnchors();
    let origin = Name.root;
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = stripComment(lines[i]!).trim();
      if (!line) continue;
      const where = `${source}:${i + 1}:1`;
      if (line.startsWith('$ORIGIN')) {
        try {
          origin = Name.parse(line.split(/\s+/)[1] ?? '.');
        } catch (e) {
          throw new TrustAnchorError(where, `bad $ORIGIN: ${(e as Error).message}`);
        }
        continue;
      }
      if (line.startsWith('$')) continue;
      let rr: ResourceRecord;
      try {
        rr = recordFromText(line, origin, 3600);
      } catch (e) {
        throw new TrustAnchorError(where, (e as Error).message);
      }
      try {
        t.add(rr);
      } catch (e) {
        throw new TrustAnchorError(where, (e as Error).message);
      }
    }
    if (t.size === 0) throw new TrustAnchorError(`${source}:1:1`, 'no DS or DNSKEY records');
    return t;
  }

  static load(file: string): TrustAnchors {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new TrustAnchorError(`${file}:1:1`, `cannot read: ${(e as Error).message}`);
    }
    return TrustAnchors.parse(text, file);
  }

  /** The IANA root anchors. */
  static root(): TrustAnchors {
    return TrustAnchors.parse(ROOT_ANCHORS_TEXT.join('\n'), 'built-in root anchors');
  }
}

function stripComment(line: string): string {
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') q = !q;
    else if (c === ';' && !q) return line.slice(0, i);
  }
  return line;
}

/**
 * Negative trust anchors (RFC 7646): names below which validation is switched off until the
 * anchor expires, for zones an operator knows to be broken.
 */
export class NegativeTrustAnchors {
  private readonly byZone = new Map<string, { zone: Name; until: number }>();

  /** `until` in milliseconds since the epoch (Infinity: until removed). */
  add(zone: Name, until: number): void {
    this.byZone.set(zone.key, { zone, until });
  }

  remove(zone: Name): boolean {
    return this.byZone.delete(zone.key);
  }

  list(now: number): Array<{ zone: Name; until: number }> {
    return [...this.byZone.values()].filter((a) => a.until > now);
  }

  /** The live negative anchor covering `name`, if any (expired ones are dropped). */
  covering(name: Name, now: number): Name | undefined {
    for (let n = name; ; n = n.parent()) {
      const a = this.byZone.get(n.key);
      if (a) {
        if (a.until > now) return a.zone;
        this.byZone.delete(n.key);
      }
      if (n.isRoot) return undefined;
    }
  }
}
