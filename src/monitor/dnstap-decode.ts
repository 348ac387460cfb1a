// Reads dnstap protobuf back (tests, tools): the inverse of dnstap-protobuf.ts for the fields
// it writes. Unknown fields are skipped, as protobuf requires; malformed input throws with the
// byte offset.
import { DNSTAP_FIELD, MESSAGE_FIELD, type DnstapMessage, type DnstapTimestamp } from './dnstap-protobuf.js';

export interface DecodedDnstap {
  identity?: Buffer;
  version?: Buffer;
  type?: number;
  message?: DnstapMessage;
}

/** One protobuf field: number, wire type and value (varint as number, LEN as bytes, I32/I64 raw). */
export interface ProtoField {
  readonly field: number;
  readonly wireType: number;
  readonly value: number | Buffer;
}

export function readFields(buf: Buffer): ProtoField[] {
  const out: ProtoField[] = [];
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= buf.length) throw new Error(`protobuf: truncated varint at byte ${p}`);
      const b = buf[p++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return v;
    }
    throw new Error(`protobuf: varint longer than 10 bytes at byte ${p}`);
  };
  while (p < buf.length) {
    const at = p;
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    let value: number | Buffer;
    if (wireType === 0) value = varint();
    else if (wireType === 2) {
      const n = varint();
      if (p + n > buf.length) throw new Error(`protobuf: field ${field} at byte ${at} runs past the end`);
      value = buf.subarray(p, p + n);
      p += n;
    } else if (wireType === 5 || wireType === 1) {
      const n = wireType === 5 ? 4 : 8;
      if (p + n > buf.length) throw new Error(`protobuf: field ${field} at byte ${at} runs past the end`);
      value = buf.subarray(p, p + n);
      p += n;
    } else throw new Error(`protobuf: wire type ${wireType} at byte ${at} not supported`);
    out.push({ field, wireType, value });
  }
  return out;
}

export function decodeDnstap(buf: Buffer): DecodedDnstap {
  const d: DecodedDnstap = {};
  for (const f of readFields(buf)) {
    if (f.field === DNSTAP_FIELD.identity && Buffer.isBuffer(f.value)) d.identity = f.value;
    else if (f.field === DNSTAP_FIELD.version && Buffer.isBuffer(f.value)) d.version = f.value;
    else if (f.field === DNSTAP_FIELD.type && typeof f.value === 'number') d.type = f.value;
    else if (f.field === DNSTAP_FIELD.message && Buffer.isBuffer(f.value)) d.message = decodeMessageFields(f.value);
  }
  return d;
}

function decodeMessageFields(buf: Buffer): DnstapMessage {
  const m: Record<string, unknown> = {};
  let qsec: number | undefined, qnsec: number | undefined, rsec: number | undefined, rnsec: number | undefined;
  const F = MESSAGE_FIELD;
  for (const f of readFields(buf)) {
    const v = f.value;
    switch (f.field) {
      case F.type: m.type = v; break;
      case F.socketFamily: m.socketFamily = v; break;
      case F.socketProtocol: m.socketProtocol = v; break;
      case F.queryAddress: m.queryAddress = v; break;
      case F.responseAddress: m.responseAddress = v; break;
      case F.queryPort: m.queryPort = v; break;
      case F.responsePort: m.responsePort = v; break;
      case F.queryTimeSec: qsec = v as number; break;
      case F.queryTimeNsec: qnsec = (v as Buffer).readUInt32LE(0); break;
      case F.queryMessage: m.queryMessage = v; break;
      case F.queryZone: m.queryZone = v; break;
      case F.responseTimeSec: rsec = v as number; break;
      case F.responseTimeNsec: rnsec = (v as Buffer).readUInt32LE(0); break;
      case F.responseMessage: m.responseMessage = v; break;
      default: break;
    }
  }
  const ts = (sec?: number, nsec?: number): DnstapTimestamp | undefined => (sec === undefined ? undefined : { sec, nsec: nsec ?? 0 });
  m.queryTime = ts(qsec, qnsec);
  m.responseTime = ts(rsec, rnsec);
  if (typeof m.type !== 'number') throw new Error('dnstap: Message without its required type');
  return m as unknown as DnstapMessage;
}
