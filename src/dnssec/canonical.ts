import { encodeRdata, Name, RRType, WireWriter, type ResourceRecord } from '../wire/index.js';
import type { RrsigData } from './types.js';

/**
 * The data an RRSIG signs (RFC 4034 §3.1.8.1, §6.2, §6.3): the RRSIG RDATA without the signature,
 * then every RR of the set in canonical form — owner lower-cased (and replaced by the wildcard
 * `*.closest-encloser` when the RRSIG labels count says it was expanded), the original TTL,
 * canonical RDATA — sorted by RDATA and without duplicates.
 */
export function signedData(rrset: readonly ResourceRecord[], sig: RrsigData): Uint8Array {
  if (rrset.length === 0) throw new RangeError('empty RRset');
  const w = new WireWriter(1 << 20, 1024);
  w.u16(sig.typeCovered);
  w.u8(sig.algorithm);
  w.u8(sig.labels);
  w.u32(sig.originalTtl);
  w.u32(sig.expiration);
  w.u32(sig.inception);
  w.u16(sig.keyTag);
  w.name(sig.signerName, false, true);
  const first = rrset[0]!;
  let owner = first.name;
  if (sig.labels < owner.labelCount) owner = owner.suffix(sig.labels).prepend('*');
  const ownerWire = owner.toWire(true);
  const rdatas = rrset.map((rr) => canonicalRdata(rr));
  rdatas.sort(compareBytes);
  let prev: Uint8Array | undefined;
  for (const rd of rdatas) {
    if (prev && compareBytes(prev, rd) === 0) continue;
    prev = rd;
    w.bytes(ownerWire);
    w.u16(first.type);
    w.u16(first.class);
    w.u32(sig.originalTtl);
    w.u16(rd.length);
    w.bytes(rd);
  }
  return w.finish();
}

export function canonicalRdata(rr: ResourceRecord): Uint8Array {
  if (rr.data instanceof Uint8Array) return rr.data;
  return encodeRdata(rr.type, rr.data, true);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** RRSIG labels field for an owner: labels without the root and a leading `*` (RFC 4034 §3.1.3). */
export function rrsigLabels(owner: Name): number {
  const n = owner.labelCount;
  return n > 0 && owner.labels[0] === '*' ? n - 1 : n;
}

export { RRType };
