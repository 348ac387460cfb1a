import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { Name, Rcode, RRType, type Message, type ResourceRecord, type SoaData } from '../wire/index.js';
import { buildZone, type Zone } from '../zone/zone.js';
import { readZoneFile } from '../zone/parser.js';
import { checkZone, findingText } from '../zone/checks.js';
import { printRecord } from '../zone/printer.js';
import { Acl, AclRegistry } from '../policy/acl.js';
import { Journal, syncDir, type JournalEntry } from './journal.js';
import { diffRecords, nextSerial, RecordStore, serialGreater } from './record-set.js';
import { CATALOG_VERSION, catalogRecords, readCatalog } from './catalog.js';
import { applyUpdate, netChanges, type UpdateResult } from './update.js';
import { makeTsigKey, type TsigKey } from './tsig.js';
import { parseRemote, querySoa, sendNotify, transferIn, XfrClientError, type Remote, type TransferOutcome } from './client.js';
import { XfrStep } from './step.js';

/**
 * The zone manager behind transfers, NOTIFY, dynamic update and secondary zones.
 *
 * The server hands it the zones it loaded from files and serves what `zones()` returns: zones
 * that take no part in transfers pass through untouched; the others become `ManagedZone`s with
 * a journal (`<file>.jnl`) that makes updates durable and feeds IXFR. Secondary zones are
 * pulled from their primaries and kept in their `file` (plus journal), so a restart serves
 * them at once. `step` is the pipeline step answering AXFR/IXFR, UPDATE, NOTIFY and TSIG.
 */

/** The zone entry keys this module reads (the server's config satisfies it). */
export interface XfrZoneConfig {
  readonly name: string;
  readonly file?: string;
  readonly primaries?: readonly string[];
  readonly 'allow-transfer'?: readonly string[];
  readonly notify?: readonly string[];
  /** Our address for NOTIFY to targets of its family (BIND's `notify-source`). */
  readonly 'notify-source'?: string;
  /** Our address for SOA checks and transfers from primaries of its family (`transfer-source`). */
  readonly 'transfer-source'?: string;
  readonly 'allow-update'?: readonly string[];
  /**
   * Catalog zones (RFC 9432): `produce` generates this zone from the zones that name it in
   * `catalog-zone`; `consume` (a secondary) adds and removes the member zones it lists.
   */
  readonly catalog?: 'produce' | 'consume';
  /** Producer side: the catalog zone that lists this zone. */
  readonly 'catalog-zone'?: string;
  /** Consumer side: where member zone copies are kept (`<zone>.zone`); default: the catalog file's folder. */
  readonly 'catalog-directory'?: string;
}

export interface XfrConfig {
  readonly keys?: Readonly<Record<string, { readonly algorithm: string; readonly secret: string }>>;
  readonly acl?: Readonly<Record<string, readonly string[]>>;
  readonly zones: readonly XfrZoneConfig[];
}

type LogFn = (obj: object, msg?: string) => void;
export interface XfrLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
}

export interface XfrServiceOptions {
  logger: XfrLogger;
  /** Called when the set of served zones or one of them changed (the server swaps its ZoneSet). */
  onChange: () => void;
  /** How often dirty zone files are rewritten from memory (default 60 s). */
  syncIntervalMs?: number;
  /** NOTIFY: tries per target (default 5) and the first wait between them (default 1 s, doubling). */
  notifyTries?: number;
  notifyRetryMs?: number;
  /** Journal entries kept for IXFR after a zone file sync (default 1000). */
  journalKeep?: number;
  /**
   * The online signer of a zone with `dnssec: {sign: true}` (the server's `ZoneSigner`), or
   * undefined. Updates to such a zone are signed before they are journalled, so the journal,
   * IXFR and the secondaries carry the RRSIG/NSEC/NSEC3 changes with the data.
   */
  signerFor?: (origin: Name) => XfrSigner | undefined;
  /** Most updates applied in one rebuild and one journal flush (default 1000). */
  maxBatch?: number;
}

/** What the zone manager needs of a zone signer (`ZoneSigner` in src/dnssec satisfies it). */
export interface XfrSigner {
  /** Takes the served signed records as the version the next update or refresh starts from. */
  adopt(records: readonly ResourceRecord[]): void;
  /** Applies a change to the adopted version and signs what it touches; the whole signed zone. */
  update(diff: { added: readonly ResourceRecord[]; removed: readonly ResourceRecord[] }, now: number): { records: ResourceRecord[] };
  /** A refresh pass: signatures near expiry replaced, serial raised; the whole signed zone. */
  refresh(now: number): { records: ResourceRecord[] };
  /** When the next refresh is due (seconds since the epoch). */
  readonly refreshAt?: number;
}

export class XfrService {
  readonly step: XfrStep;
  readonly logger: XfrLogger;
  /** Cluster workers share files: only a single process may write journals and zone copies. */
  readonly readOnly = cluster.isWorker;
  private keys = new Map<string, TsigKey>();
  private keysByName = new Map<string, TsigKey>();
  private managed = new Map<string, ManagedZone>();
  private plain: Zone[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private registry = new AclRegistry({});
  private aclNames: ReadonlySet<string> = new Set();
  /** Consumed catalogs by origin key: their config and the member zones they added. */
  private catalogs = new Map<string, { zc: XfrZoneConfig; members: Set<string> }>();
  /** Member zones a catalog removed: taken out of the server's map by `apply`. */
  private dropped = new Set<string>();
  private catalogQueue: Promise<void> = Promise.resolve();
  stopped = false;

  constructor(readonly opts: XfrServiceOptions) {
    this.logger = opts.logger;
    this.step = new XfrStep(this);
  }

  /** The TSIG key with this owner name (as found in a TSIG record). */
  readonly findKey = (name: Name): TsigKey | undefined => this.keys.get(name.key);

  /** A configured key by its config name. */
  keyByName(name: string): TsigKey | undefined {
    return this.keysByName.get(name.toLowerCase().replace(/\.$/, ''));
  }

  get(origin: Name): ManagedZone | undefined {
    return this.managed.get(origin.key);
  }

  /** True when any zone with this origin is served (managed or not). */
  serves(origin: Name): boolean {
    return this.managed.get(origin.key)?.served !== undefined || this.plain.some((z) => z.origin.equals(origin));
  }

  /** The zones to serve now. */
  zones(): Zone[] {
    const out = [...this.plain];
    for (const m of this.managed.values()) if (m.served) out.push(m.served);
    return out;
  }

  /**
   * The server's map of served zones (keyed by origin key) with the managed zones' current
   * versions in it: updated primaries replace their file version, secondaries are added while
   * they have data and are not expired, and removed otherwise. `wrap` makes a map entry.
   */
  apply<T extends { readonly zone: Zone }>(served: ReadonlyMap<string, T>, wrap: (zone: Zone, previous: T | undefined) => T): Map<string, T> {
    const out = new Map(served);
    for (const [key, m] of this.managed) {
      const z = m.served;
      const prev = out.get(key);
      if (z) {
        if (prev?.zone !== z) out.set(key, wrap(z, prev));
      } else if (m.secondary) out.delete(key);
    }
    for (const key of this.dropped) if (!this.managed.has(key)) out.delete(key);
    return out;
  }

  changed(): void {
    this.opts.onChange();
  }

  /**
   * The server's re-signing timer for a signed zone: when this service manages the zone, the
   * refresh goes through it (journalled, IXFR, NOTIFY) and true is returned; otherwise false
   * and the server swaps the zone itself.
   */
  resign(origin: Name, now: number): boolean {
    const m = this.managed.get(origin.key);
    if (!m || m.secondary || !this.opts.signerFor?.(origin)) return false;
    m.resign(now).catch((e: unknown) => this.logger.error({ zone: origin.toString(), err: e }, `signature refresh failed: ${(e as Error).message}`));
    return true;
  }

  /**
   * Takes a (re)loaded config and the zones the server read from files (one per primary zone
   * that loaded; unchanged ones are the same objects as last time). Returns the zones to serve.
   */
  async configure(config: XfrConfig, fileZones: readonly Zone[]): Promise<Zone[]> {
    this.keys.clear();
    this.keysByName.clear();
    for (const [name, k] of Object.entries(config.keys ?? {})) {
      try {
        const key = makeTsigKey(name, k.algorithm, k.secret);
        this.keys.set(key.name.key, key);
        this.keysByName.set(name.toLowerCase().replace(/\.$/, ''), key);
      } catch (e) {
        this.logger.error({ key: name }, (e as Error).message);
      }
    }
    let registry: AclRegistry;
    try {
      registry = new AclRegistry(config.acl ?? {});
    } catch (e) {
      this.logger.error({}, `acl: ${(e as Error).message}`);
      registry = new AclRegistry({});
    }
    const byOrigin = new Map(fileZones.map((z) => [z.origin.key, z]));
    const next = new Map<string, ManagedZone>();
    const plain: Zone[] = [];
    for (const zc of config.zones) {
      let origin: Name;
      try {
        origin = Name.parse(zc.name.endsWith('.') ? zc.name : zc.name + '.');
      } catch {
        continue;
      }
      const secondary = (zc.primaries?.length ?? 0) > 0;
      const managed = secondary || zc.catalog !== undefined || (zc['allow-transfer']?.length ?? 0) > 0 || (zc['allow-update']?.length ?? 0) > 0 || (zc.notify?.length ?? 0) > 0;
      if (!managed) {
        const z = byOrigin.get(origin.key);
        if (z) plain.push(z);
        continue;
      }
      let mz = this.managed.get(origin.key);
      if (mz && mz.secondary !== secondary) {
        await mz.close();
        mz = undefined;
      }
      mz ??= new ManagedZone(this, origin, secondary);
      mz.setConfig(zc, registry, new Set(Object.keys(config.acl ?? {})));
      next.set(origin.key, mz);
      try {
        if (secondary) {
          if (zc.catalog === 'consume') this.catalogs.set(origin.key, { zc, members: this.catalogs.get(origin.key)?.members ?? new Set() });
          await mz.startSecondary();
        } else if (zc.catalog === 'produce') {
          await mz.adoptCatalog(catalogMembers(config, origin, (w) => this.logger.warn({ zone: zc.name }, w)));
        } else {
          const fz = byOrigin.get(origin.key);
          if (fz) await mz.adoptFile(fz);
        }
      } catch (e) {
        this.logger.error({ zone: zc.name, err: e }, `zone manager: ${(e as Error).message}`);
      }
    }
    this.registry = registry;
    this.aclNames = new Set(Object.keys(config.acl ?? {}));
    // Member zones of consumed catalogs stay (with the catalog's current settings) unless the
    // catalog is gone or the zone is now configured explicitly.
    for (const [ckey, cat] of [...this.catalogs]) {
      const catalog = next.get(ckey);
      if (!catalog || !cat.zc.catalog) {
        this.catalogs.delete(ckey);
        continue;
      }
      for (const mkey of [...cat.members]) {
        const member = this.managed.get(mkey);
        if (!member || next.has(mkey) || plain.some((z) => z.origin.key === mkey)) {
          cat.members.delete(mkey);
          continue;
        }
        member.setConfig(memberConfig(cat.zc, member.origin), registry, this.aclNames);
        next.set(mkey, member);
      }
    }
    for (const [key, old] of this.managed) if (!next.has(key)) await old.close();
    this.managed = next;
    // Catalogs read while this ran were skipped (the zone map was not in place yet).
    for (const key of this.catalogs.keys()) {
      const cat = next.get(key);
      if (cat?.zone && !cat.expired) void this.catalogChanged(cat);
    }
    this.plain = plain;
    if (!this.syncTimer && !this.stopped) {
      this.syncTimer = setInterval(() => void this.syncAll(), this.opts.syncIntervalMs ?? 60_000);
      this.syncTimer.unref();
    }
    return this.zones();
  }

  /** Rewrites every zone file whose zone changed since it was last written. */
  async syncAll(): Promise<void> {
    for (const m of this.managed.values()) {
      try {
        await m.sync();
      } catch (e) {
        this.logger.error({ zone: m.origin.toString(), err: e }, `zone file not written: ${(e as Error).message}`);
      }
    }
  }

  /** A consumed catalog zone has new content: adds and removes its member zones (RFC 9432 §5). */
  catalogChanged(catalog: ManagedZone): Promise<void> {
    const run = () => this.syncCatalog(catalog).catch((e: unknown) => this.logger.error({ zone: catalog.origin.toString(), err: e }, `catalog: ${(e as Error).message}`));
    this.catalogQueue = this.catalogQueue.then(run, run);
    return this.catalogQueue;
  }

  private async syncCatalog(catalog: ManagedZone): Promise<void> {
    const cat = this.catalogs.get(catalog.origin.key);
    const zone = catalog.zone;
    if (!cat || !zone || this.stopped || this.managed.get(catalog.origin.key) !== catalog) return;
    const name = catalog.origin.toString();
    const content = readCatalog(zone);
    // §4.2.1: a catalog of a schema version we do not know is not processed at all.
    if (content.version !== CATALOG_VERSION) {
      this.logger.error({ zone: name, version: content.version ?? null }, `catalog zone has schema version ${content.version ?? '(none)'}, not ${CATALOG_VERSION}: members left as they are`);
      return;
    }
    for (const p of content.problems) this.logger.warn({ zone: name }, `catalog: ${p}`);
    let changed = false;
    for (const [key, m] of content.members) {
      if (cat.members.has(key)) continue;
      if (this.managed.has(key) || this.plain.some((z) => z.origin.key === key) || [...this.catalogs.values()].some((c) => c.members.has(key))) {
        this.logger.warn({ zone: name, member: m.name.toString() }, 'catalog member is already served (configured or in another catalog); ignored');
        continue;
      }
      const mz = new ManagedZone(this, m.name, true);
      mz.setConfig(memberConfig(cat.zc, m.name), this.registry, this.aclNames);
      this.managed.set(key, mz);
      cat.members.add(key);
      this.dropped.delete(key);
      changed = true;
      this.logger.info({ zone: name, member: m.name.toString() }, 'catalog member added');
      mz.startSecondary().catch((e: unknown) => this.logger.error({ zone: m.name.toString(), err: e }, `catalog member: ${(e as Error).message}`));
    }
    for (const key of [...cat.members]) {
      if (content.members.has(key)) continue;
      const mz = this.managed.get(key);
      cat.members.delete(key);
      this.managed.delete(key);
      this.dropped.add(key);
      changed = true;
      if (mz) {
        await mz.close();
        // §5.3: a removed member's data is not kept.
        if (mz.file && !this.readOnly) for (const f of [mz.file, `${mz.file}.jnl`, `${mz.file}.state`]) await rm(f, { force: true });
        this.logger.info({ zone: name, member: mz.origin.toString() }, 'catalog member removed');
      }
    }
    if (changed) this.changed();
  }

  /** The member zones a consumed catalog added (origin keys), for tests and status. */
  catalogMembers(catalog: Name): string[] {
    return [...(this.catalogs.get(catalog.key)?.members ?? [])];
  }

  /** Stops timers, writes dirty zone files, closes journals. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    for (const m of this.managed.values()) await m.close();
  }
}

const zoneName = (text: string): Name => Name.parse(text.endsWith('.') ? text : text + '.');

/** The zones of `config` that name `catalog` in `catalog-zone` (RFC 9432 producer side). */
function catalogMembers(config: XfrConfig, catalog: Name, warn: (msg: string) => void): Name[] {
  const out: Name[] = [];
  for (const zc of config.zones) {
    const c = zc['catalog-zone'];
    if (c === undefined) continue;
    try {
      if (!zoneName(c).equals(catalog)) continue;
      out.push(zoneName(zc.name));
    } catch (e) {
      warn(`catalog-zone of ${zc.name}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** The settings of a member zone added by a consumed catalog: the catalog's primaries and ACLs. */
function memberConfig(catalog: XfrZoneConfig, member: Name): XfrZoneConfig {
  const dir = catalog['catalog-directory'] ?? (catalog.file ? dirname(catalog.file) : undefined);
  const label = member.toString().replace(/\.$/, '').replace(/[/\\]/g, '_');
  return {
    name: member.toString(),
    file: dir ? join(dir, `${label}.zone`) : undefined,
    primaries: catalog.primaries,
    'allow-transfer': catalog['allow-transfer'],
    notify: catalog.notify,
    'notify-source': catalog['notify-source'],
    'transfer-source': catalog['transfer-source'],
  };
}

/** `remote` sent to from `source` when the two are of one family (else the system's choice). */
function withSource(remote: Remote, source: string | undefined): Remote {
  if (source === undefined || isIP(source) !== isIP(remote.address)) return remote;
  return { ...remote, source };
}

/** The longest delay a Node timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

async function signatureOf(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** Writes a zone file atomically: a flushed temp file renamed over the old one. */
export async function writeZoneFile(file: string, zone: Zone): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    let chunk: string[] = [`$ORIGIN ${zone.origin.toString()}`];
    for (const rr of zone.records()) {
      chunk.push(printRecord(rr));
      if (chunk.length >= 8192) {
        await fh.write(chunk.join('\n') + '\n');
        chunk = [];
      }
    }
    if (chunk.length) await fh.write(chunk.join('\n') + '\n');
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(dirname(file));
}

/** Applies journal entries to a record store (replay and IXFR in). */
function applyEntries(store: RecordStore, entries: readonly JournalEntry[]): void {
  for (const e of entries) {
    for (const rr of e.deleted) store.remove(rr);
    for (const rr of e.added) store.add(rr);
  }
}

/** Undoes an applied update on the store (when it could not be made durable). */
function revert(store: RecordStore, res: UpdateResult): void {
  for (const rr of res.added) store.remove(rr);
  for (const rr of res.deleted) store.add(rr);
}

function buildChecked(origin: Name, records: ResourceRecord[]): Zone {
  const checked = checkZone(origin, records);
  if (checked.errors.length) throw new Error(`zone has errors: ${checked.errors.slice(0, 3).map(findingText).join('; ')}`);
  return buildZone(origin, checked.records);
}

/** One zone taking part in transfers: a primary (file + updates) or a secondary. */
export class ManagedZone {
  /** The current data (kept while expired, to be written and refreshed). */
  zone: Zone | undefined;
  expired = false;
  journal: Journal | undefined;
  file: string | undefined;
  transferAcl: Acl = Acl.none;
  updateAcl: Acl = Acl.none;
  notifyTargets: Remote[] = [];
  /** `notify-source`, for the targets found in the zone's NS too. */
  private notifySource: string | undefined;
  primaries: Remote[] = [];
  private store: RecordStore | undefined;
  private fileZone: Zone | undefined;
  private writtenSig: string | undefined;
  private dirty = false;
  private queue: Promise<unknown> = Promise.resolve();
  private pendingUpdates: Array<{ msg: Message; resolve: (r: UpdateResult) => void }> = [];
  private draining = false;
  private notifyGen = 0;
  private started = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  private expireTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  /** ms since the epoch of the last successful check with a primary. */
  lastRefresh = 0;
  catalogRole: 'produce' | 'consume' | undefined;

  constructor(
    private readonly svc: XfrService,
    readonly origin: Name,
    readonly secondary: boolean,
  ) {}

  get served(): Zone | undefined {
    return this.expired ? undefined : this.zone;
  }

  private get log(): XfrLogger {
    return this.svc.logger;
  }

  private get name(): string {
    return this.origin.toString();
  }

  setConfig(zc: XfrZoneConfig, registry: AclRegistry, aclNames: ReadonlySet<string>): void {
    // A produced catalog is generated from config: no file, no journal (IXFR answers in AXFR form).
    this.file = zc.catalog === 'produce' ? undefined : zc.file;
    this.catalogRole = zc.catalog;
    const acl = (label: string, entries: readonly string[] | undefined): Acl => {
      if (!entries?.length) return Acl.none;
      // A bare configured key name means "key NAME" (as in `allow-transfer: [xfr-key]`).
      const norm = entries.map((e) => {
        const neg = e.startsWith('!');
        const body = neg ? e.slice(1).trim() : e.trim();
        return this.svc.keyByName(body) && !aclNames.has(body) ? `${neg ? '!' : ''}key ${body}` : e;
      });
      try {
        return registry.inline(`${this.name} ${label}`, norm);
      } catch (e) {
        this.log.error({ zone: this.name }, `${label}: ${(e as Error).message}`);
        return Acl.none;
      }
    };
    this.transferAcl = acl('allow-transfer', zc['allow-transfer']);
    this.updateAcl = acl('allow-update', zc['allow-update']);
    const remotes = (label: string, list: readonly string[] | undefined, source: string | undefined): Remote[] => {
      const out: Remote[] = [];
      for (const t of list ?? []) {
        try {
          out.push(withSource(parseRemote(t, (n) => this.svc.keyByName(n)), source));
        } catch (e) {
          this.log.error({ zone: this.name }, `${label}: ${(e as Error).message}`);
        }
      }
      return out;
    };
    this.notifySource = zc['notify-source'];
    this.notifyTargets = remotes('notify', zc.notify, this.notifySource);
    this.primaries = remotes('primaries', zc.primaries, zc['transfer-source']);
  }

  /** Runs changes to this zone one at a time. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async openJournal(): Promise<Journal | undefined> {
    if (this.journal || !this.file || this.svc.readOnly) return this.journal;
    this.journal = await Journal.open(`${this.file}.jnl`);
    if (this.journal.repairedBytes) this.log.warn({ zone: this.name, bytes: this.journal.repairedBytes }, 'journal had a torn tail (crash while writing); cut');
    return this.journal;
  }

  /** Starts from a zone file version: replays the journal over it (start) or takes a changed file (reload). */
  adoptFile(fz: Zone): Promise<void> {
    return this.serialize(async () => {
      if (fz === this.fileZone || fz === this.zone) return; // unchanged, or our own version handed back
      const first = this.zone === undefined;
      this.fileZone = fz;
      const j = await this.openJournal();
      if (first) {
        this.zone = this.replay(fz, j);
        if (this.zone !== fz) this.dirty = true;
        this.writtenSig = this.file ? await signatureOf(this.file) : undefined;
        return;
      }
      const cur = this.zone!;
      if (this.file && (await signatureOf(this.file)) === this.writtenSig) return; // our own write
      if (serialGreater(fz.serial, cur.serial)) {
        // An edited file with a higher serial: the difference goes to the journal (IXFR).
        const { deleted, added } = diffRecords(cur.records(), fz.records());
        await j?.append({ from: cur.serial, to: fz.serial, deleted, added });
        this.take(fz, false);
        this.writtenSig = this.file ? await signatureOf(this.file) : undefined;
        this.log.info({ zone: this.name, from: cur.serial, to: fz.serial, deleted: deleted.length, added: added.length }, 'zone file changed; difference journalled');
        this.notify();
        return;
      }
      if (cur.serial !== fz.serial || (j && j.lastSerial === cur.serial && j.chainFrom(fz.serial))) {
        this.log.error({ zone: this.name, file: fz.serial, served: cur.serial }, 'zone file serial is not above the served one (dynamic updates happened): file ignored; edit it with a higher serial');
        return;
      }
      // Same serial, other content: served as is, but secondaries cannot see it (no newer serial).
      this.log.warn({ zone: this.name, serial: fz.serial }, 'zone file changed without a new serial: served as is; IXFR history dropped; raise the serial so secondaries pick it up');
      await j?.clear();
      this.take(fz, false);
      this.writtenSig = this.file ? await signatureOf(this.file) : undefined;
    });
  }

  private replay(fz: Zone, j: Journal | undefined): Zone {
    if (!j || j.entries.length === 0 || j.lastSerial === fz.serial) return fz;
    const chain = j.chainFrom(fz.serial);
    if (chain) {
      const store = new RecordStore(fz.records());
      applyEntries(store, chain);
      const z = buildZone(this.origin, store.records());
      this.store = store;
      this.log.info({ zone: this.name, entries: chain.length, from: fz.serial, serial: z.serial }, 'journal replayed over the zone file');
      return z;
    }
    this.log.warn({ zone: this.name, file: fz.serial, journal: j.lastSerial }, 'journal does not continue the zone file; serving the file and starting a new history');
    void j.clear();
    return fz;
  }

  private take(z: Zone, keepStore: boolean): void {
    this.zone = z;
    if (!keepStore) this.store = undefined;
    this.expired = false;
    this.svc.changed();
    if (this.catalogRole === 'consume') void this.svc.catalogChanged(this);
  }

  /**
   * A produced catalog (RFC 9432): generated from the member list; the serial goes up by one
   * when the list changed (first time: the current time), the difference is served and notified.
   */
  adoptCatalog(members: readonly Name[]): Promise<void> {
    return this.serialize(async () => {
      const cur = this.zone;
      const records = catalogRecords(this.origin, members, cur ? cur.serial : Math.floor(Date.now() / 1000));
      if (cur) {
        const { deleted, added } = diffRecords(cur.records(), records);
        if (deleted.length === 0 && added.length === 0) return;
        const z = buildZone(this.origin, catalogRecords(this.origin, members, nextSerial(cur.serial)));
        this.take(z, false);
        this.log.info({ zone: this.name, serial: z.serial, members: members.length }, 'catalog zone regenerated');
        this.notify();
        return;
      }
      this.zone = buildZone(this.origin, records);
      this.log.info({ zone: this.name, serial: this.zone.serial, members: members.length }, 'catalog zone generated');
    });
  }

  /**
   * RFC 2136 update, durable before it returns NOERROR. Updates that arrive while an earlier
   * batch is being applied are applied together (group commit): each is checked and applied in
   * arrival order against the result of the ones before it (its own prerequisites, its own
   * serial step), then the zone is rebuilt once and one journal entry (the net change, from
   * the first serial to the last) is flushed once; then every answer goes out.
   */
  update(msg: Message): Promise<UpdateResult> {
    return new Promise<UpdateResult>((resolve) => {
      this.pendingUpdates.push({ msg, resolve });
      if (this.draining) return;
      this.draining = true;
      void this.serialize(() => this.drainUpdates());
    });
  }

  /** Updates applied so far in batches: [batches, updates] (for logs and tests). */
  readonly batchStats = { batches: 0, updates: 0 };

  private async drainUpdates(): Promise<void> {
    try {
      while (this.pendingUpdates.length) {
        const batch = this.pendingUpdates.splice(0, this.svc.opts.maxBatch ?? 1000);
        let results: UpdateResult[];
        try {
          results = await this.applyBatch(batch.map((b) => b.msg));
        } catch (e) {
          const r = { rcode: Rcode.SERVFAIL, reason: (e as Error).message, changed: false, deleted: [], added: [] };
          results = batch.map(() => r);
        }
        batch.forEach((b, i) => b.resolve(results[i]!));
      }
    } finally {
      this.draining = false;
    }
  }

  private async applyBatch(msgs: readonly Message[]): Promise<UpdateResult[]> {
    const zone = this.zone;
    if (!zone || this.svc.readOnly || !this.journal) {
      return msgs.map(() => ({ rcode: Rcode.SERVFAIL, reason: 'zone not writable here', changed: false, deleted: [], added: [] }));
    }
    const store = (this.store ??= new RecordStore(zone.records()));
    const results = msgs.map((m) => applyUpdate(this.origin, zone.class, store, m));
    const applied = results.filter((r) => r.rcode === Rcode.NOERROR && r.changed);
    if (applied.length === 0) return results;
    const net = netChanges(applied.flatMap((r) => r.deleted), applied.flatMap((r) => r.added));
    const from = applied[0]!.serial!.from;
    const to = applied.at(-1)!.serial!.to;
    let entry: JournalEntry = { from, to, deleted: net.deleted, added: net.added };
    let next: Zone;
    const signer = this.svc.opts.signerFor?.(this.origin);
    try {
      if (signer) {
        // The signer starts from exactly what is served (a reload or restart may have moved
        // its own idea of the zone), signs what the batch touched, and the journal gets the
        // signed difference: RRSIG, NSEC and NSEC3 changes travel by IXFR with the data.
        signer.adopt([...zone.records()]);
        const signed = signer.update({ added: net.added, removed: net.deleted }, Math.floor(Date.now() / 1000)).records;
        const d = diffRecords(zone.records(), signed);
        entry = { from, to, deleted: d.deleted, added: d.added };
        // The store follows the signer's output: the batch undone, the signed difference applied.
        for (const r of [...applied].reverse()) revert(store, r);
        for (const rr of d.deleted) store.remove(rr);
        for (const rr of d.added) store.add(rr);
        next = buildZone(this.origin, signed);
      } else next = buildZone(this.origin, store.records());
      // The answers wait for the disk: an acknowledged update survives kill -9.
      await this.journal.append(entry);
    } catch (e) {
      if (signer) this.store = undefined; // out of step: rebuilt from the served zone next time
      else for (const r of [...applied].reverse()) revert(store, r);
      this.log.error({ zone: this.name, err: e }, `update not applied: ${(e as Error).message}`);
      const failed: UpdateResult = { rcode: Rcode.SERVFAIL, reason: (e as Error).message, changed: false, deleted: [], added: [] };
      return results.map((r) => (applied.includes(r) ? failed : r));
    }
    this.batchStats.batches++;
    this.batchStats.updates += applied.length;
    if (applied.length > 1) this.log.debug({ zone: this.name, updates: applied.length, from, to }, 'updates applied as one batch');
    this.dirty = true;
    this.take(next, true);
    this.notify();
    return results;
  }

  /**
   * A signature refresh of a signed zone (the server's re-signing timer): the signer replaces
   * signatures close to expiry and raises the serial; the difference is journalled (IXFR) and
   * NOTIFY sent, like an update.
   */
  resign(now: number): Promise<void> {
    return this.serialize(async () => {
      const signer = this.svc.opts.signerFor?.(this.origin);
      const zone = this.zone;
      if (!signer || !zone || this.secondary || this.svc.readOnly) return;
      if (signer.refreshAt !== undefined && signer.refreshAt > now + 1) return; // done by an earlier call
      signer.adopt([...zone.records()]);
      const signed = signer.refresh(now).records;
      const next = buildZone(this.origin, signed);
      if (!serialGreater(next.serial, zone.serial)) throw new Error(`re-signing did not raise the serial (${zone.serial} -> ${next.serial})`);
      const d = diffRecords(zone.records(), signed);
      await this.journal?.append({ from: zone.serial, to: next.serial, deleted: d.deleted, added: d.added });
      this.dirty = true;
      this.take(next, false);
      this.log.info({ zone: this.name, serial: next.serial, deleted: d.deleted.length, added: d.added.length }, 'zone signatures refreshed; difference journalled');
      this.notify();
    });
  }

  /** The journal entries from `serial` to the current one, when the history reaches back. */
  chainFrom(serial: number): JournalEntry[] | undefined {
    const j = this.journal;
    const z = this.zone;
    if (!j || !z) return undefined;
    const chain = j.chainFrom(serial);
    return chain && chain.at(-1)!.to === z.serial ? chain : undefined;
  }

  /** Writes the zone file from memory when it changed. */
  sync(): Promise<void> {
    return this.serialize(async () => {
      if (!this.dirty || !this.zone || !this.file || this.svc.readOnly) return;
      await writeZoneFile(this.file, this.zone);
      this.writtenSig = await signatureOf(this.file);
      this.dirty = false;
      const keep = this.svc.opts.journalKeep ?? 1000;
      if (this.journal && this.journal.entries.length > 2 * keep) await this.journal.compact(keep);
      this.log.debug({ zone: this.name, serial: this.zone.serial }, 'zone file written');
    });
  }

  async close(): Promise<void> {
    this.notifyGen++;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.expireTimer);
    try {
      await this.sync();
    } catch (e) {
      this.log.error({ zone: this.name, err: e }, `zone file not written: ${(e as Error).message}`);
    }
    await this.serialize(async () => {
      await this.journal?.close();
      this.journal = undefined;
    });
  }

  // ---- NOTIFY out (RFC 1996) ----

  /** Where NOTIFY goes: the `notify` list, and the zone's NS addresses when transfers are allowed. */
  notifyList(): Remote[] {
    const out = [...this.notifyTargets];
    const z = this.zone;
    if (!z || this.transferAcl === Acl.none) return out;
    const seen = new Set(out.map((r) => r.address));
    const mname = z.soa.data.mname;
    for (const ns of z.apex.getRRset(RRType.NS)?.records ?? []) {
      const target = ns.data instanceof Uint8Array ? undefined : (ns.data as { target: Name }).target;
      // RFC 1996 §3.6: not the primary named in the SOA; only addresses we know (in-zone).
      if (!target || target.equals(mname) || !z.contains(target)) continue;
      const node = z.getNode(target);
      for (const t of [RRType.A, RRType.AAAA]) {
        for (const a of node?.getRRset(t)?.records ?? []) {
          const address = (a.data as { address: string }).address;
          if (seen.has(address)) continue;
          seen.add(address);
          out.push(withSource({ address, port: 53, text: `${address}:53 (NS ${target})` }, this.notifySource));
        }
      }
    }
    return out;
  }

  notify(): void {
    const gen = ++this.notifyGen;
    for (const t of this.notifyList()) void this.notifyOne(t, gen);
  }

  private async notifyOne(t: Remote, gen: number): Promise<void> {
    const tries = this.svc.opts.notifyTries ?? 5;
    let wait = this.svc.opts.notifyRetryMs ?? 1000;
    for (let i = 0; i < tries; i++) {
      if (gen !== this.notifyGen || this.svc.stopped || !this.zone) return;
      try {
        const rcode = await sendNotify(t, this.origin, this.zone.soa);
        this.log.info({ zone: this.name, to: t.text, serial: this.zone.soa.data.serial, rcode }, 'NOTIFY answered');
        return;
      } catch (e) {
        this.log.debug({ zone: this.name, to: t.text, try: i + 1 }, `NOTIFY: ${(e as Error).message}`);
      }
      await sleep(wait);
      wait *= 2;
    }
    this.log.warn({ zone: this.name, to: t.text, tries }, 'NOTIFY not answered; giving up');
  }

  // ---- secondary (RFC 1034 §4.3.5, RFC 1995, RFC 5936) ----

  /** First call: serves the copy on disk (if any, not expired) and checks the primaries at once. */
  startSecondary(): Promise<void> {
    if (this.started) return Promise.resolve();
    this.started = true;
    return this.serialize(async () => {
      if (this.file && existsSync(this.file)) {
        try {
          const records: ResourceRecord[] = [];
          for await (const rr of readZoneFile(this.file, { origin: this.origin })) records.push(rr);
          const fz = buildZone(this.origin, records);
          const j = await this.openJournal();
          this.zone = this.replay(fz, j);
          this.writtenSig = await signatureOf(this.file);
          const state = await this.readState();
          this.lastRefresh = state?.lastRefresh ?? 0;
          const left = this.lastRefresh + this.zone.soa.data.expire * 1000 - Date.now();
          if (left <= 0) {
            this.expired = true;
            this.log.warn({ zone: this.name, serial: this.zone.serial }, 'secondary copy on disk has expired; not served until a primary answers');
          } else {
            this.armExpire(left);
            this.log.info({ zone: this.name, serial: this.zone.serial, records: this.zone.recordCount }, 'secondary zone loaded from its copy on disk');
          }
          this.svc.changed();
          if (this.catalogRole === 'consume' && !this.expired) void this.svc.catalogChanged(this);
        } catch (e) {
          this.log.warn({ zone: this.name }, `secondary copy not usable (${(e as Error).message}); transferring anew`);
          this.zone = undefined;
        }
      } else await this.openJournal();
      this.scheduleRefresh(0);
    });
  }

  private statePath(): string | undefined {
    return this.file ? `${this.file}.state` : undefined;
  }

  private async readState(): Promise<{ lastRefresh: number } | undefined> {
    const p = this.statePath();
    if (!p) return undefined;
    try {
      const s = JSON.parse(await readFile(p, 'utf8')) as { lastRefresh?: unknown };
      return typeof s.lastRefresh === 'number' ? { lastRefresh: s.lastRefresh } : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeState(): Promise<void> {
    const p = this.statePath();
    if (!p || this.svc.readOnly) return;
    await writeFile(`${p}.tmp`, JSON.stringify({ lastRefresh: this.lastRefresh, serial: this.zone?.serial }) + '\n');
    await rename(`${p}.tmp`, p);
  }

  private scheduleRefresh(seconds: number): void {
    clearTimeout(this.refreshTimer);
    if (this.svc.stopped || this.svc.readOnly) return;
    this.refreshTimer = setTimeout(() => void this.refresh(), Math.min(MAX_TIMER_MS, Math.max(0, seconds) * 1000));
  }

  private armExpire(ms: number): void {
    clearTimeout(this.expireTimer);
    // Node timers hold at most ~24.8 days; a longer expire (catalog zones use 2^31-2 s) re-arms.
    this.expireTimer = setTimeout(() => this.checkExpire(), Math.min(MAX_TIMER_MS, Math.max(0, ms) + 10));
  }

  private checkExpire(): void {
    const z = this.zone;
    if (!z || this.expired) return;
    const left = this.lastRefresh + z.soa.data.expire * 1000 - Date.now();
    if (left > 0) {
      if (!this.svc.stopped) this.armExpire(left);
      return;
    }
    this.expired = true;
    this.log.warn({ zone: this.name, serial: z.serial, expire: z.soa.data.expire }, 'secondary zone expired: no primary answered in time; no longer served');
    this.svc.changed();
  }

  /** A NOTIFY for this zone came from `address`: true when that is one of our primaries. */
  notified(address: string): boolean {
    if (!this.primaries.some((p) => p.address === address)) return false;
    void this.refresh();
    return true;
  }

  /** Checks the primaries now (a refresh or a NOTIFY); concurrent calls run once more after. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = this.doRefresh().finally(() => {
      this.refreshing = undefined;
      if (this.refreshAgain && !this.svc.stopped) {
        this.refreshAgain = false;
        void this.refresh();
      }
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    if (this.svc.stopped) return;
    for (const p of this.primaries) {
      try {
        const theirs = await this.primarySoa(p);
        const ours = this.zone;
        if (!ours || !theirs || serialGreater(theirs.data.serial, ours.serial)) await this.pull(p);
        this.lastRefresh = Date.now();
        const soa = this.zone!.soa.data;
        if (this.expired) {
          this.expired = false;
          this.svc.changed();
        }
        this.armExpire(soa.expire * 1000);
        await this.writeState();
        this.scheduleRefresh(soa.refresh);
        return;
      } catch (e) {
        this.log.warn({ zone: this.name, primary: p.text }, `refresh failed: ${(e as Error).message}`);
      }
    }
    this.checkExpire();
    this.scheduleRefresh(this.zone?.soa.data.retry ?? 10);
  }

  /**
   * The primary's SOA, or undefined when it refuses SOA queries but may still transfer: Knot
   * serves the catalog zones it generates only by AXFR/IXFR, so a REFUSED SOA check falls back
   * to the transfer itself (an IXFR from our serial costs one SOA when nothing changed).
   */
  private async primarySoa(p: Remote): Promise<ResourceRecord<SoaData> | undefined> {
    try {
      return await querySoa(p, this.origin);
    } catch (e) {
      if (e instanceof XfrClientError && e.rcode === Rcode.REFUSED) {
        this.log.info({ zone: this.name, primary: p.text }, 'SOA query refused; checking with a transfer');
        return undefined;
      }
      throw e;
    }
  }

  private async pull(p: Remote): Promise<void> {
    let outcome: TransferOutcome | undefined;
    const ours = this.zone;
    if (ours) {
      try {
        outcome = await transferIn(p, this.origin, RRType.IXFR, ours.serial);
      } catch (e) {
        this.log.info({ zone: this.name, primary: p.text }, `IXFR failed (${(e as Error).message}); trying AXFR`);
      }
    }
    try {
      if (outcome) {
        await this.serialize(() => this.applyTransfer(outcome!));
        return;
      }
    } catch (e) {
      this.log.info({ zone: this.name, primary: p.text }, `IXFR not applicable (${(e as Error).message}); trying AXFR`);
    }
    outcome = await transferIn(p, this.origin, RRType.AXFR);
    await this.serialize(() => this.applyTransfer(outcome!));
  }

  private async applyTransfer(o: TransferOutcome): Promise<void> {
    const old = this.zone;
    if (o.kind === 'uptodate') return;
    if (o.kind === 'axfr') {
      const z = buildChecked(this.origin, o.records);
      if (old && this.journal) {
        const { deleted, added } = diffRecords(old.records(), z.records());
        await this.journal.append({ from: old.serial, to: z.serial, deleted, added });
        this.dirty = true;
      } else if (this.file && !this.svc.readOnly) {
        await this.journal?.clear();
        await writeZoneFile(this.file, z);
        this.writtenSig = await signatureOf(this.file);
      }
      this.take(z, false);
      this.log.info({ zone: this.name, serial: z.serial, records: z.recordCount }, 'AXFR in: zone transferred');
    } else {
      if (!old) throw new Error('IXFR without a zone');
      const first = o.entries[0];
      if (!first || first.from !== old.serial) throw new Error(`IXFR starts at serial ${first?.from}, ours is ${old.serial}`);
      const store = (this.store ??= new RecordStore(old.records()));
      applyEntries(store, o.entries);
      let z: Zone;
      try {
        z = buildZone(this.origin, store.records());
        if (z.serial !== o.soa.data.serial) throw new Error(`IXFR ended at serial ${z.serial}, expected ${o.soa.data.serial}`);
      } catch (e) {
        this.store = undefined; // the store is out of step now: rebuilt from the zone next time
        throw e;
      }
      for (const e of o.entries) await this.journal?.append(e);
      this.dirty = true;
      this.take(z, true);
      this.log.info({ zone: this.name, from: old.serial, serial: z.serial, entries: o.entries.length }, 'IXFR in: differences applied');
    }
    this.notify();
  }
}

export type { SoaData };
