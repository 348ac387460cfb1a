// Frame Streams (fstrm), the transport dnstap uses: https://github.com/farsightsec/fstrm
// (fstrm/control.h documents the control frames).
//
//   data frame:    u32 length (> 0), payload
//   control frame: u32 0 (escape), u32 length of what follows (<= 512), u32 control type,
//                  then fields: u32 field type, u32 field length, field bytes
//   every integer is big-endian.
//
// Control types: ACCEPT 1, START 2, STOP 3, READY 4, FINISH 5; the one field type is
// CONTENT_TYPE 1 (at most 256 bytes). A bidirectional writer sends READY (its content types),
// waits for ACCEPT, sends START (one content type), data frames and STOP, then waits for FINISH.
// A file or other one-way stream has only START, data frames and STOP.

export const DNSTAP_CONTENT_TYPE = 'protobuf:dnstap.Dnstap';

export const ControlType = { ACCEPT: 1, START: 2, STOP: 3, READY: 4, FINISH: 5 } as const;
export const CONTROL_FIELD_CONTENT_TYPE = 1;
/** Longest control frame a reader must accept (FSTRM_CONTROL_FRAME_LENGTH_MAX). */
export const CONTROL_FRAME_LENGTH_MAX = 512;
export const CONTENT_TYPE_LENGTH_MAX = 256;

export function controlTypeName(t: number): string {
  return Object.entries(ControlType).find(([, v]) => v === t)?.[0] ?? `UNKNOWN(${t})`;
}

/** A complete control frame, escape included. */
export function controlFrame(type: number, contentTypes: readonly string[] = []): Buffer {
  const fields = contentTypes.map((ct) => {
    const b = Buffer.from(ct, 'utf8');
    if (b.length > CONTENT_TYPE_LENGTH_MAX) throw new RangeError(`fstrm: content type longer than ${CONTENT_TYPE_LENGTH_MAX} bytes`);
    const f = Buffer.allocUnsafe(8 + b.length);
    f.writeUInt32BE(CONTROL_FIELD_CONTENT_TYPE, 0);
    f.writeUInt32BE(b.length, 4);
    b.copy(f, 8);
    return f;
  });
  const bodyLength = 4 + fields.reduce((n, f) => n + f.length, 0);
  if (bodyLength > CONTROL_FRAME_LENGTH_MAX) throw new RangeError('fstrm: control frame too long');
  const head = Buffer.allocUnsafe(12);
  head.writeUInt32BE(0, 0);
  head.writeUInt32BE(bodyLength, 4);
  head.writeUInt32BE(type, 8);
  return Buffer.concat([head, ...fields]);
}

/** A data frame around `payload` (which must not be empty: length 0 is the control escape). */
export function dataFrame(payload: Uint8Array): Buffer {
  if (payload.length === 0) throw new RangeError('fstrm: empty data frame');
  const b = Buffer.allocUnsafe(4 + payload.length);
  b.writeUInt32BE(payload.length, 0);
  b.set(payload, 4);
  return b;
}

export type Frame =
  | { readonly kind: 'data'; readonly payload: Buffer }
  | { readonly kind: 'control'; readonly type: number; readonly contentTypes: readonly string[] };

export class FstrmError extends Error {
  override readonly name = 'FstrmError';
}

/** Parses the body of a control frame (after the escape and length words). */
export function parseControl(body: Buffer, at = 0): Frame {
  if (body.length < 4) throw new FstrmError(`control frame at byte ${at}: shorter than its type`);
  const type = body.readUInt32BE(0);
  const contentTypes: string[] = [];
  let p = 4;
  while (p < body.length) {
    if (p + 8 > body.length) throw new FstrmError(`control frame at byte ${at}: truncated field header`);
    const ft = body.readUInt32BE(p);
    const fl = body.readUInt32BE(p + 4);
    p += 8;
    if (p + fl > body.length) throw new FstrmError(`control frame at byte ${at}: field length ${fl} runs past the frame`);
    if (ft === CONTROL_FIELD_CONTENT_TYPE) {
      if (fl > CONTENT_TYPE_LENGTH_MAX) throw new FstrmError(`control frame at byte ${at}: content type longer than ${CONTENT_TYPE_LENGTH_MAX}`);
      contentTypes.push(body.toString('utf8', p, p + fl));
    }
    // Unknown field types are skipped, as fstrm does.
    p += fl;
  }
  return { kind: 'control', type, contentTypes };
}

/**
 * Incremental reader of a Frame Streams byte stream: feed chunks, get whole frames. Errors
 * name the byte offset in the stream. `maxFrame` bounds the memory one frame may claim.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private offset = 0;

  constructor(private readonly maxFrame = 1 << 20) {}

  push(chunk: Uint8Array): Frame[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    let p = 0;
    for (;;) {
      if (this.buf.length - p < 4) break;
      const len = this.buf.readUInt32BE(p);
      const at = this.offset + p;
      if (len !== 0) {
        if (len > this.maxFrame) throw new FstrmError(`data frame at byte ${at}: length ${len} over the limit ${this.maxFrame}`);
        if (this.buf.length - p - 4 < len) break;
        out.push({ kind: 'data', payload: this.buf.subarray(p + 4, p + 4 + len) });
        p += 4 + len;
        continue;
      }
      if (this.buf.length - p < 8) break;
      const clen = this.buf.readUInt32BE(p + 4);
      if (clen > CONTROL_FRAME_LENGTH_MAX) throw new FstrmError(`control frame at byte ${at}: length ${clen} over ${CONTROL_FRAME_LENGTH_MAX}`);
      if (this.buf.length - p - 8 < clen) break;
      out.push(parseControl(this.buf.subarray(p + 8, p + 8 + clen), at));
      p += 8 + clen;
    }
    this.offset += p;
    // Copy the tail so frames handed out do not pin, and are not changed by, later input.
    this.buf = p === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(p));
    return out;
  }

  /** Bytes of an incomplete frame still held. */
  get pending(): number {
    return this.buf.length;
  }
}
