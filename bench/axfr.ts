// Times a full zone transfer (AXFR over TCP, RFC 5936) from a server: the first message out
// to the closing SOA in. Messages are walked, not decoded, so the client costs little.
import { connect } from 'node:net';

export interface AxfrResult {
  seconds: number;
  records: number;
  messages: number;
  bytes: number;
}

/** Skips a (possibly compressed) name at `off`; returns the offset after it. */
function skipName(b: Uint8Array, off: number): number {
  for (;;) {
    const len = b[off]!;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += len + 1;
  }
}

/**
 * Walks one AXFR message: returns its rcode, answer count and whether its last answer is an
 * SOA (the transfer's end when it is not the very first record).
 */
export function walkAxfrMessage(m: Uint8Array): { rcode: number; answers: number; lastIsSoa: boolean } {
  const rcode = m[3]! & 15;
  const qd = (m[4]! << 8) | m[5]!;
  const an = (m[6]! << 8) | m[7]!;
  let off = 12;
  for (let i = 0; i < qd; i++) off = skipName(m, off) + 4;
  let lastType = 0;
  for (let i = 0; i < an; i++) {
    off = skipName(m, off);
    lastType = (m[off]! << 8) | m[off + 1]!;
    const rdlen = (m[off + 8]! << 8) | m[off + 9]!;
    off += 10 + rdlen;
  }
  return { rcode, answers: an, lastIsSoa: lastType === 6 };
}

function encodeAxfrQuery(zone: string): Buffer {
  const labels = zone.replace(/\.$/, '').split('.').filter(Boolean);
  const q: number[] = [0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of labels) q.push(l.length, ...Buffer.from(l, 'ascii'));
  q.push(0, 0, 252, 0, 1);
  const out = Buffer.alloc(q.length + 2);
  out.writeUInt16BE(q.length, 0);
  Buffer.from(q).copy(out, 2);
  return out;
}

/** Transfers `zone`; rejects on a refusal (with the rcode), a closed connection or `timeoutMs`. */
export function timeAxfr(address: string, port: number, zone: string, timeoutMs = 120_000): Promise<AxfrResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = connect({ host: address, port });
    let buf: Buffer = Buffer.alloc(0);
    let records = 0;
    let messages = 0;
    let bytes = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve({ seconds: (performance.now() - t0) / 1000, records, messages, bytes });
    };
    const timer = setTimeout(() => finish(new Error(`AXFR not finished after ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => sock.write(encodeAxfrQuery(zone)));
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      bytes += d.length;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const w = walkAxfrMessage(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        messages++;
        if (w.rcode !== 0) return finish(new Error(`AXFR refused (rcode ${w.rcode})`));
        records += w.answers;
        if (w.lastIsSoa && records > 1) return finish();
      }
    });
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new Error('connection closed before the closing SOA')));
  });
}
