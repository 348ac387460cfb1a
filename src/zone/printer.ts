import { classToString, encodeRdata, rdataText, RRType, typeToString, type Name, type ResourceRecord } from '../wire/index.js';

export interface PrintOptions {
  /** Written as `$ORIGIN` first; with `relative`, owner names below it are printed relative. */
  origin?: Name;
  /** Owner names relative to `origin` (`@` for the apex). Default false: absolute names. */
  relative?: boolean;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Canonical order: owner names in RFC 4034 §6.1 order; at one owner the SOA first, then
 * types by number; inside an RRset, RDATA by its canonical wire form (RFC 4034 §6.3).
 */
export function sortCanonical(records: readonly ResourceRecord[]): ResourceRecord[] {
  const wire = new Map<ResourceRecord, Uint8Array>();
  const rdata = (rr: ResourceRecord): Uint8Array => {
    let w = wire.get(rr);
    if (!w) {
      w = rr.data instanceof Uint8Array ? rr.data : encodeRdata(rr.type, rr.data, true);
      wire.set(rr, w);
    }
    return w;
  };
  const rank = (t: number): number => (t === RRType.SOA ? -1 : t);
  return [...records].sort((a, b) => a.name.compare(b.name) || rank(a.type) - rank(b.type) || a.class - b.class || compareBytes(rdata(a), rdata(b)));
}

/** One record in presentation form, tab separated: `owner TTL CLASS TYPE RDATA`. */
export function printRecord(rr: ResourceRecord, opts: PrintOptions = {}): string {
  const owner = opts.relative && opts.origin ? rr.name.toText(opts.origin) : rr.name.toString();
  return `${owner}\t${rr.ttl}\t${classToString(rr.class)}\t${typeToString(rr.type)}\t${rdataText(rr)}`;
}

/**
 * A zone in canonical presentation form: `$ORIGIN` (when an origin is given), then one record
 * per line in canonical order. Every TTL and class is explicit, so the text parses back to
 * the same records whatever `$TTL` the reader assumes.
 */
export function printZone(records: readonly ResourceRecord[], opts: PrintOptions = {}): string {
  const lines: string[] = [];
  if (opts.origin) lines.push(`$ORIGIN ${opts.origin.toString()}`);
  for (const rr of sortCanonical(records)) lines.push(printRecord(rr, opts));
  return lines.join('\n') + '\n';
}
