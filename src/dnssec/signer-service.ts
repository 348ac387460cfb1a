import { Name, RRType, type ResourceRecord, type SoaData } from '../wire/index.js';
import { generateZoneKey, loadZoneKeys, saveKey, type ZoneKey } from './keys.js';
import { planRollover, type DsWait } from './rollover.js';
import type { SignerSettings } from './signer-config.js';
import { resignChanges, signZoneDetailed, type SignResult, type ZoneDiff } from './signer.js';

/**
 * Online signing for one served zone: keeps its keys (loaded from the key directory, made
 * there when missing), signs at load, signs again incrementally on reloads and updates, and
 * says when the next refresh pass is due. The server owns the timer and the swap of the zone.
 */
export class ZoneSigner {
  private last: { records: ResourceRecord[]; serial: number } | undefined;
  private keys: ZoneKey[] = [];
  private result: SignResult | undefined;
  /** The next key timing event or rollover start (seconds), from the last key pass. */
  private keyEventAt: number | undefined;
  /** KSK/CSK rollovers waiting for `ds-seen`, from the last key pass. */
  private dsWaits: DsWait[] = [];
  /** Rollover notices already logged (each is logged once per start). */
  private readonly told = new Set<string>();

  constructor(
    readonly origin: Name,
    readonly settings: SignerSettings,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /**
   * The zone's keys from the key directory. When no key is active, generates what the policy
   * asks for (a CSK, or a KSK and a ZSK) into the directory, private files mode 0600.
   */
  loadKeys(now: number): ZoneKey[] {
    const keys = loadZoneKeys(this.settings.keyDirectory, this.origin);
    const alive = keys.filter((k) => k.timing.inactive === undefined || k.timing.inactive > now);
    if (alive.length === 0) {
      const made: ZoneKey[] = [generateZoneKey(this.origin, this.settings.algorithm, true, now)];
      if (this.settings.split) made.push(generateZoneKey(this.origin, this.settings.algorithm, false, now));
      for (const k of made) {
        saveKey(this.settings.keyDirectory, k, this.settings.policy.dnskeyTtl);
        this.log(`generated ${k.ksk ? (this.settings.split ? 'KSK' : 'CSK') : 'ZSK'} ${k.base} in ${this.settings.keyDirectory}`);
      }
      keys.push(...made);
    }
    this.keys = this.roll(keys, now);
    return this.keys;
  }

  /**
   * Runs the rollover plan over the keys (`settings.rollover`): successors are generated and
   * timing changes written to the key files before they are used; notices are logged once.
   */
  private roll(keys: ZoneKey[], now: number): ZoneKey[] {
    const r = this.settings.rollover;
    const ctx = { dnskeyTtl: this.settings.policy.dnskeyTtl, signatureLifetime: this.settings.policy.signatureLifetime, maxZoneTtl: this.maxZoneTtl() };
    const plan = planRollover(keys, r ?? { zskLifetime: 0, kskLifetime: 0, publishSafety: 3600, retireSafety: 3600, parentDsTtl: 86400 }, ctx, now);
    for (const k of plan.changed) saveKey(this.settings.keyDirectory, k, this.settings.policy.dnskeyTtl);
    for (const n of plan.notices) {
      if (this.told.has(n)) continue;
      this.told.add(n);
      this.log(n);
    }
    this.keyEventAt = plan.nextEvent;
    this.dsWaits = plan.waiting;
    return plan.keys.sort((a, b) => a.tag - b.tag);
  }

  /** KSK/CSK rollovers waiting for the operator to confirm the parent's DS (`dnssec ds-seen`). */
  get waitingForDs(): readonly DsWait[] {
    return this.dsWaits;
  }

  get currentKeys(): readonly ZoneKey[] {
    return this.keys;
  }

  private maxZoneTtl(): number {
    let max = 0;
    for (const rr of this.last?.records ?? []) if (rr.ttl > max) max = rr.ttl;
    return max || 86400;
  }

  /**
   * Signs the zone data as loaded from its file (a load or a reload). Signatures of RRsets
   * that did not change since the last pass are kept. The SOA serial is raised above the last
   * signed one when the file's serial did not move, so secondaries see the new signatures.
   */
  sign(records: readonly ResourceRecord[], now: number): SignResult {
    // Keys are read each pass: rollover timing moves on, and `dnssec ds-seen` writes the files.
    this.loadKeys(now);
    const data = this.withSerial(records);
    // First pass: signatures already in the input (a zone file written from a signed zone) are
    // kept where still valid, so a restart serves the same signed data that was journalled.
    const r = signZoneDetailed(this.origin, data, this.settings.policy, this.keys, now, { previous: this.last?.records ?? records });
    return this.keep(r);
  }

  /**
   * Takes a signed version made elsewhere (the zone manager's journal replayed over the loaded
   * zone, or its last update) as the version the next `update` or `refresh` starts from.
   */
  adopt(records: readonly ResourceRecord[]): void {
    const soa = records.find((rr) => rr.type === RRType.SOA) as ResourceRecord<SoaData> | undefined;
    this.last = { records: [...records], serial: soa?.data.serial ?? 0 };
  }

  /** Applies a dynamic update (or any diff) to the last signed version. */
  update(diff: ZoneDiff, now: number): SignResult {
    if (!this.last) throw new Error(`zone ${this.origin} has not been signed yet`);
    const r = resignChanges(this.last.records, diff, this.settings.policy, this.keys, now);
    return this.keep(r);
  }

  /** A refresh pass: same data, signatures close to expiry replaced, serial raised. */
  refresh(now: number): SignResult {
    if (!this.last) throw new Error(`zone ${this.origin} has not been signed yet`);
    // sign() reads the keys again: key timing may have moved on (rollover).
    const data = this.last.records.filter((rr) => rr.type !== RRType.RRSIG);
    return this.sign(data, now);
  }

  /**
   * When the next signing pass is due (seconds): signatures close to expiry, or a key timing
   * event (a key published, activated, retired, removed; a rollover to start). Undefined
   * before the first signing.
   */
  get refreshAt(): number | undefined {
    const sigs = this.result?.refreshAt;
    if (sigs === undefined) return undefined;
    return this.keyEventAt !== undefined && this.keyEventAt < sigs ? this.keyEventAt : sigs;
  }

  get signedRecords(): readonly ResourceRecord[] | undefined {
    return this.last?.records;
  }

  private keep(r: SignResult): SignResult {
    const soa = r.records.find((rr) => rr.type === RRType.SOA) as ResourceRecord<SoaData> | undefined;
    this.last = { records: r.records, serial: soa?.data.serial ?? 0 };
    this.result = r;
    return r;
  }

  /** The records with an SOA serial above the last signed one when it did not move (RFC 1982). */
  private withSerial(records: readonly ResourceRecord[]): ResourceRecord[] {
    if (!this.last) return [...records];
    const prev = this.last.serial;
    return records.map((rr) => {
      if (rr.type !== RRType.SOA || rr.data instanceof Uint8Array) return rr;
      const d = rr.data as SoaData;
      if (((d.serial - prev) | 0) > 0) return rr;
      return { ...rr, data: { ...d, serial: (prev + 1) >>> 0 } };
    });
  }
}
