import { RRType } from '../constants.js';
import type { EdnsOption } from '../edns.js';
import { registerCodec, type RecordCodec } from './codec.js';

/** OPT RDATA (RFC 6891 §6.1.2): code, length, value, repeated. Options are kept as bytes. */
export const OPT: RecordCodec<{ options: EdnsOption[] }> = {
  type: RRType.OPT,
  fromWire(r) {
    const options: EdnsOption[] = [];
    while (r.remaining > 0) {
      const code = r.u16();
      const len = r.u16();
      options.push({ code, data: r.bytes(len) });
    }
    return { options };
  },
  toWire(w, v) {
    for (const o of v.options) {
      w.u16(o.code);
      w.u16(o.data.length);
      w.bytes(o.data);
    }
  },
  fromText(t) {
    throw t.error(t.peek(), 'OPT is a pseudo-record and has no presentation form');
  },
  toText: (v) => v.options.map((o) => `${o.code}:${Buffer.from(o.data).toString('hex')}`).join(' '),
};
registerCodec(OPT);
