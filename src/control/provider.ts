import type { Alert } from '../monitor/index.js';

type Awaitable<T> = T | Promise<T>;

/** One served zone as `GET /api/zones` lists it. */
export interface ZoneInfo {
  name: string;
  serial: number;
  /** primary | secondary | ... */
  kind?: string;
  records?: number;
  /** ISO time of the last load or transfer. */
  loaded?: string;
  view?: string;
}

/** A cached RRset (or negative entry) as `GET /api/cache` shows it. */
export interface CacheEntry {
  name: string;
  type: string;
  /** Remaining TTL in seconds. */
  ttl: number;
  /** Records in presentation form; empty for a negative entry. */
  records: string[];
  /** NXDOMAIN / NODATA for negative entries. */
  negative?: string;
}

export interface ReloadResult {
  ok: boolean;
  message?: string;
  [key: string]: unknown;
}

/**
 * What the control API needs from the running server. The server implements it; the API only
 * formats. Methods may be sync or async; a thrown error becomes a JSON 500 with its message
 * (a `ControlError` chooses its own status).
 */
export interface ControlProvider {
  /** Free-form status: version, uptime, listeners, config file, ... */
  status(): Awaitable<Record<string, unknown>>;
  /** Live numbers; `Monitor.stats()` (plus anything the server adds, e.g. cache entries). */
  stats(): Awaitable<Record<string, unknown>>;
  zones(): Awaitable<ZoneInfo[]>;
  alerts(): Awaitable<Alert[]>;
  reload(): Awaitable<ReloadResult>;
  /** Flushes everything, or one name (all types) when given; returns how many entries went. */
  flushCache(name?: string): Awaitable<{ flushed: number }>;
  /** `type` is a mnemonic ("A", "TYPE65534"); `name` absolute presentation form. */
  cacheLookup(name: string, type: string): Awaitable<CacheEntry[]>;
}

/** An error with an HTTP status, for providers to signal e.g. 409 (reload already running). */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}
