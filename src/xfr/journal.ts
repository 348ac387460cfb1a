import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readRecord, WireReader, WireWriter, writeRecord, type ResourceRecord } from '../wire/index.js';

/**
 * The zone journal: an append-only file of differences (one entry per dynamic update or reload),
 * the source of IXFR and of crash safety. An entry is written and flushed to disk (fdatasync)
 * before the update that made it is acknowledged, so `kill -9` loses nothing acknowledged.
 *
 * Frame: magic "PCJ1", u32 payload length, u32 CRC-32 of the payload, payload. A torn or corrupt
 * tail (a crash mid-write) fails the length or CRC check and is cut off when the file is opened.
 * Payload: u32 serial before, u32 serial after, u32 count + deleted records, u32 count + added
 * records, records in uncompressed wire form.
 */
export interface JournalEntry {
  readonly from: number;
  readonly to: number;
  readonly deleted: readonly ResourceRecord[];
  readonly added: readonly ResourceRecord[];
}

const MAGIC = 0x50434a31; // "PCJ1"

export class Journal {
  private constructor(
    readonly path: string,
    private fh: FileHandle,
    private size: number,
    readonly entries: JournalEntry[],
    /** Bytes cut from a torn tail when the file was opened (0 when it was clean). */
    readonly repairedBytes: number,
  ) {}

  static async open(path: string): Promise<Journal> {
    const fh = await open(path, 'a+');
    const buf = await fh.readFile();
    const entries: JournalEntry[] = [];
    let pos = 0;
    while (pos + 12 <= buf.length) {
      if (buf.readUInt32BE(pos) !== MAGIC) break;
      const len = buf.readUInt32BE(pos + 4);
      const crc = buf.readUInt32BE(pos + 8);
      if (pos + 12 + len > buf.length) break;
      const payload = buf.subarray(pos + 12, pos + 12 + len);
      if (crc32(payload) !== crc) break;
      try {
        entries.push(decodeEntry(payload));
      } catch {
        break;
      }
      pos += 12 + len;
    }
    const repaired = buf.length - pos;
    if (repaired > 0) {
      await fh.truncate(pos);
      await fh.datasync();
    }
    return new Journal(path, fh, pos, entries, repaired);
  }

  /** Appends an entry and waits until it is on disk. */
  async append(entry: JournalEntry): Promise<void> {
    const frame = frameOf(entry);
    await this.fh.write(frame, 0, frame.length, this.size);
    await this.fh.datasync();
    this.size += frame.length;
    this.entries.push(entry);
  }

  /** The entries leading from `from` to the newest serial, or undefined when history does not reach back. */
  chainFrom(from: number): JournalEntry[] | undefined {
    const i = this.entries.findIndex((e) => e.from === from);
    if (i < 0) return undefined;
    const chain = this.entries.slice(i);
    for (let k = 1; k < chain.length; k++) if (chain[k]!.from !== chain[k - 1]!.to) return undefined;
    return chain;
  }

  get lastSerial(): number | undefined {
    return this.entries.at(-1)?.to;
  }

  /** Empties the journal (after a full reload that breaks the history). */
  async clear(): Promise<void> {
    await this.fh.truncate(0);
    await this.fh.datasync();
    this.size = 0;
    this.entries.length = 0;
  }

  /**
   * Keeps only the newest `keep` entries (IXFR history), rewriting the file atomically: the
   * new file is written and flushed beside the old one, then renamed over it.
   */
  async compact(keep: number): Promise<void> {
    if (this.entries.length <= keep) return;
    const kept = this.entries.slice(this.entries.length - keep);
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w');
    let size = 0;
    try {
      for (const e of kept) {
        const frame = frameOf(e);
        await fh.write(frame, 0, frame.length, size);
        size += frame.length;
      }
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    await syncDir(dirname(this.path));
    await this.fh.close();
    this.fh = await open(this.path, 'a+');
    this.size = size;
    this.entries.splice(0, this.entries.length - keep);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

function frameOf(entry: JournalEntry): Buffer {
  const payload = encodeEntry(entry);
  const frame = Buffer.alloc(12 + payload.length);
  frame.writeUInt32BE(MAGIC, 0);
  frame.writeUInt32BE(payload.length, 4);
  frame.writeUInt32BE(crc32(payload), 8);
  frame.set(payload, 12);
  return frame;
}

/** Flushes a directory so a rename in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    await fh.close();
  }
}

function encodeEntry(e: JournalEntry): Uint8Array {
  const w = new WireWriter(1 << 30, 1024);
  w.u32(e.from);
  w.u32(e.to);
  w.u32(e.deleted.length);
  for (const rr of e.deleted) writeRecord(w, rr, false);
  w.u32(e.added.length);
  for (const rr of e.added) writeRecord(w, rr, false);
  return w.finish();
}

function decodeEntry(b: Uint8Array): JournalEntry {
  const r = new WireReader(b);
  const from = r.u32();
  const to = r.u32();
  const deleted: ResourceRecord[] = [];
  for (let n = r.u32(); n > 0; n--) deleted.push(readRecord(r));
  const added: ResourceRecord[] = [];
  for (let n = r.u32(); n > 0; n--) added.push(readRecord(r));
  if (r.pos !== b.length) throw new Error('journal entry has trailing bytes');
  return { from, to, deleted, added };
}

let table: Uint32Array | undefined;
/** CRC-32 (IEEE 802.3), as zlib computes it. */
export function crc32(b: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
