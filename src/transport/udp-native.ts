// Loads the optional batched-UDP addon (native/udp-batch, built by `npm install` with
// node-gyp). Without it, or with PORTCULLIS_UDP=dgram, UDP listeners use node:dgram.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque socket handle from the addon. */
export type NativeHandle = { readonly __native: unique symbol };

export interface NativeUdp {
  /** Creates and binds a socket; throws an Error with `code` (EADDRINUSE, EACCES, ...). */
  open(family: 4 | 6, host: string, port: number, bufferSize: number, reusePort: boolean): NativeHandle;
  /** Starts reading: `onBatch(count)` is called with `thisArg` for every batch read. */
  start(h: NativeHandle, recv: Uint8Array, send: Uint8Array, meta: Int32Array, addr: Uint8Array, onBatch: (count: number) => void, thisArg: object): void;
  /** Sends one datagram now; returns 0 or an errno. */
  sendTo(h: NativeHandle, bytes: Uint8Array, address: string, port: number): number;
  /** A socket opened by another process and inherited as descriptor `fd` (used through a dup). */
  adopt(fd: number, family: 4 | 6): NativeHandle;
  /** The socket's descriptor (to hand to child processes). */
  fileno(h: NativeHandle): number;
  localPort(h: NativeHandle): number;
  /** [received, sent, sendErrors, batches, truncated] */
  stats(h: NativeHandle): number[];
  close(h: NativeHandle): void;
  readonly BATCH: number;
  readonly SLOT: number;
  readonly META: number;
  /**
   * 1 when the meta buffer ends with one more int32, the count of batches flushed (a reply
   * finished while its batch is still open goes out with it); absent in an older build.
   */
  readonly FLUSH_COUNT?: number;
}

let loaded: NativeUdp | null | undefined;
let why = '';

/** The addon, or undefined when it is not built, not wanted, or fails to load (see `nativeUdpStatus`). */
export function loadNativeUdp(): NativeUdp | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  loaded = null;
  if (process.env.PORTCULLIS_UDP === 'dgram') why = 'PORTCULLIS_UDP=dgram';
  else if (process.platform !== 'linux') why = 'not Linux';
  else {
    const file = findAddon();
    if (!file) why = 'not built (npm install builds it; needs g++, make, python3)';
    else {
      try {
        loaded = createRequire(import.meta.url)(file) as NativeUdp;
        why = file;
      } catch (e) {
        why = `failed to load: ${(e as Error).message}`;
      }
    }
  }
  return loaded ?? undefined;
}

/** Which UDP I/O is in use and why, for logs and `check-config`. */
export function nativeUdpStatus(): { batched: boolean; detail: string } {
  const n = loadNativeUdp();
  return { batched: n !== undefined, detail: why };
}

/** build/Release/udp_batch.node in the package root (a few levels above this file, in src or dist). */
function findAddon(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const f = join(dir, 'build', 'Release', 'udp_batch.node');
    if (existsSync(f)) return f;
    dir = dirname(dir);
  }
  return undefined;
}
