import { EdeCode, Rcode } from '../wire/index.js';
import { AllowList } from './allow.js';
import { detectionSettings, type DetectionConfigInput, type DetectionSettings } from './config.js';
import { isTunnelType, nameFeatures } from './features.js';
import type { ClientMapper } from './privacy.js';
import type { Action, Alert, Decision, FindingType, QueryEvent } from './types.js';
import { RecentKeys, Seen, SlidingCounters } from './window.js';

/*
 * Detection of DNS abuse from the query stream alone, in sliding windows (DESIGN: monitor).
 *
 * Three kinds of state, each updated in O(1) per query:
 *  - per (client, registered domain) "pair": how much data the names carry (length, entropy,
 *    novelty), which types carry the answers, and the check-in times for beaconing;
 *  - per registered domain: failure ratio, novelty and randomness of the leftmost label, rate and
 *    how many clients take part (random-subdomain "water torture" floods come from many);
 *  - per client: bytes out against bytes in over UDP (reflection/amplification).
 * Scores are computed every few queries of a state, not on every query, and compared with the
 * per-finding thresholds. Scoring formulas and the measured rates are in docs/monitoring.md.
 */

const BUCKETS = 6;
/** Queries in the window before a pair or client is scored at all. */
const MIN_PAIR_QUERIES = 10;
const MIN_DOMAIN_QUERIES = 50;
const MIN_CLIENT_QUERIES = 20;
/** Score a state every this many of its queries. */
const PAIR_EVAL_EVERY = 8;
const DOMAIN_EVAL_EVERY = 16;
const CLIENT_EVAL_EVERY = 16;
/** Queries closer than this belong to one beacon check-in (A + AAAA + HTTPS, retries). */
const CHECKIN_GAP_MS = 1000;
const CHECKINS = 12;
const MIN_CHECKIN_INTERVALS = 8;
/** Pair state (with its beacon history) is kept this long after its last query. */
const PAIR_IDLE_MS = 3_600_000;
const ALERT_RETENTION_MS = 3_600_000;
const MAX_ALERTS = 1000;

// Field indexes of the sliding counters.
const P_Q = 0, P_SUBLEN = 1, P_ENTROPY = 2, P_NOVEL = 3, P_TTYPE = 4, P_NX = 5, P_MAXLABEL = 6, P_IN = 7, P_OUT = 8;
const P_FIELDS = 9;
const D_Q = 0, D_FAIL = 1, D_NOVEL = 2, D_MAXLABEL = 3, D_ENTROPY = 4;
const D_FIELDS = 5;
const C_Q = 0, C_IN = 1, C_OUT = 2;
const C_FIELDS = 3;

interface PairState {
  client: string;
  domain: string;
  n: number;
  lastSeen: number;
  win: SlidingCounters;
  subs: RecentKeys;
  /** Beacon check-ins: times, and whether each carried a never-seen name or a tunnel type. */
  checkins: Float64Array;
  checkinNovel: Uint8Array;
  checkinCount: number;
  lastCheckin: number;
}

interface DomainState {
  domain: string;
  n: number;
  lastSeen: number;
  win: SlidingCounters;
  subs: RecentKeys;
  clients: RecentKeys;
  /** Boyer-Moore majority vote: the client sending most of the queries, if one does. */
  major: string;
  majorCount: number;
}

interface ClientState {
  client: string;
  n: number;
  lastSeen: number;
  win: SlidingCounters;
  major: string;
  majorCount: number;
}

interface AlertState {
  type: FindingType;
  domain: string;
  rawClient: string;
  client: string;
  score: number;
  first: number;
  last: number;
  count: number;
  evidence: Record<string, number | string>;
}

interface Enforcement {
  action: 'throttle' | 'block';
  reason: FindingType;
  until: number;
  text: string;
  tokens: number;
  refilled: number;
}

export interface DetectorOptions {
  detection?: DetectionConfigInput;
  /** How clients appear in alerts (the query log's privacy setting). */
  mapClient?: ClientMapper;
  /** Current time for `decide` and alert expiry; event times drive the windows. */
  clock?: () => number;
  /** Called when an alert is raised (`fresh`) or raised again. */
  onAlert?: (alert: Alert, fresh: boolean) => void;
  /** Called when a query is throttled or blocked by `decide`. */
  onAction?: (decision: Decision) => void;
  /**
   * Load shedding: above this many queries a second (measured over the previous second of
   * event time), only a random share of the queries is scored, each counted with the weight
   * 1/share, so the detector costs at most about this many full evaluations a second. Default
   * 20000; Infinity scores every query.
   */
  sampleAbove?: number;
}

/** Default of `DetectorOptions.sampleAbove`. */
export const DETECTOR_SAMPLE_ABOVE = 20_000;

const clamp = (x: number) => (x <= 0 ? 0 : x >= 1 ? 1 : x);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export class Detector {
  private settings!: DetectionSettings;
  private allow!: AllowList;
  private readonly pairs = new Map<string, PairState>();
  private readonly domains = new Map<string, DomainState>();
  private readonly clients = new Map<string, ClientState>();
  private readonly alertMap = new Map<string, AlertState>();
  private readonly enforced = new Map<string, Enforcement>();
  private readonly mapClient: ClientMapper;
  private readonly clock: () => number;
  private readonly onAlert?: (alert: Alert, fresh: boolean) => void;
  private readonly onAction?: (decision: Decision) => void;
  private readonly scratch = new Float64Array(Math.max(P_FIELDS, D_FIELDS, C_FIELDS));
  private observed = 0;
  /** Bumped whenever tracked states may have been dropped: the memos below are then stale. */
  private drops = 0;
  private memoDrops = -1;
  private memoPair: PairState | undefined;
  private memoDomain: DomainState | undefined;
  private memoClient: ClientState | undefined;
  private lastTime = 0;
  private readonly sampleAbove: number;
  /** Queries in the current and the previous second (event time), and the share scored. */
  private second = -1;
  private inSecond = 0;
  private share = 1;
  private rng = 0x9e3779b9;
  /** Queries seen and queries scored (they differ only while shedding load). */
  readonly sampling = { seen: 0, scored: 0 };

  constructor(opts: DetectorOptions = {}) {
    this.configure(opts.detection ?? {});
    this.mapClient = opts.mapClient ?? ((c) => c);
    this.clock = opts.clock ?? Date.now;
    this.onAlert = opts.onAlert;
    this.onAction = opts.onAction;
    this.sampleAbove = opts.sampleAbove ?? DETECTOR_SAMPLE_ABOVE;
  }

  /** Applies new settings (on reload); windows, alerts and actions in force are kept. */
  configure(detection: DetectionConfigInput): void {
    this.settings = detectionSettings(detection);
    this.allow = new AllowList(this.settings.allow);
  }

  get config(): Readonly<DetectionSettings> {
    return this.settings;
  }

  /** Tracked state sizes, for tests and /api/status. */
  get tracked(): { pairs: number; domains: number; clients: number; enforced: number } {
    return { pairs: this.pairs.size, domains: this.domains.size, clients: this.clients.size, enforced: this.enforced.size };
  }

  observe(e: QueryEvent): void {
    const s = this.settings;
    if (!s.enabled) return;
    const t = e.time;
    if (t > this.lastTime) this.lastTime = t;
    this.sampling.seen++;
    // Load shedding (sampleAbove): the share for this second comes from the last one's rate.
    const sec = Math.floor(t / 1000);
    if (sec !== this.second) {
      this.share = sec === this.second + 1 && this.inSecond > this.sampleAbove ? this.sampleAbove / this.inSecond : 1;
      this.second = sec;
      this.inSecond = 0;
    }
    this.inSecond++;
    let w = 1;
    if (this.share < 1) {
      // xorshift32: cheap, and no pattern in the traffic can line up with it
      let x = this.rng;
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      this.rng = x >>> 0;
      if (this.rng / 4294967296 >= this.share) return;
      w = 1 / this.share;
    }
    this.sampling.scored++;
    if (++this.observed % 4096 === 0) this.sweep(t);
    if (!this.allow.empty && this.allow.allowsClient(e.client)) return;
    const f = nameFeatures(e.qname, e.zone);
    if (!this.allow.empty && this.allow.allowsName(f.domain === '.' ? '' : (f.sub ? f.sub + '.' : '') + f.domain)) return;

    const ttype = isTunnelType(e.qtype) ? 1 : 0;
    const nx = e.rcode === Rcode.NXDOMAIN ? 1 : 0;
    const fail = nx || e.rcode === Rcode.SERVFAIL ? 1 : 0;
    const windowMs = s.windowMs;
    const bucketMs = windowMs / BUCKETS;

    // The last query's pair, domain and client states are kept at hand: traffic comes in runs
    // from one client for one domain (a resolver asking a zone), and each state is a map lookup
    // (the pair's after a string concatenation) otherwise. Valid until something is dropped.

    // ---- pair ----
    let p = this.memoDrops === this.drops && this.memoPair !== undefined && this.memoPair.client === e.client && this.memoPair.domain === f.domain ? this.memoPair : undefined;
    if (!p) p = this.pairs.get(e.client + '|' + f.domain);
    if (!p) {
      const pk = e.client + '|' + f.domain;
      if (this.pairs.size >= s.maxTracked) this.evictOldest(this.pairs, t);
      p = {
        client: e.client, domain: f.domain, n: 0, lastSeen: t,
        win: new SlidingCounters(P_FIELDS, BUCKETS, bucketMs), subs: new RecentKeys(256),
        checkins: new Float64Array(CHECKINS), checkinNovel: new Uint8Array(CHECKINS), checkinCount: 0, lastCheckin: -Infinity,
      };
      this.pairs.set(pk, p);
    }
    p.n++;
    const seen = p.subs.see(f.sub, t, windowMs);
    const pb = p.win.slot(t);
    p.win.add(pb, P_Q, w);
    p.win.add(pb, P_SUBLEN, f.subLength * w);
    p.win.add(pb, P_ENTROPY, f.entropy * w);
    if (seen !== Seen.InWindow) p.win.add(pb, P_NOVEL, w);
    p.win.add(pb, P_TTYPE, ttype * w);
    p.win.add(pb, P_NX, nx * w);
    p.win.add(pb, P_MAXLABEL, f.maxLabelLength * w);
    p.win.add(pb, P_IN, e.bytesIn * w);
    p.win.add(pb, P_OUT, e.bytesOut * w);
    if (t - p.lastSeen >= CHECKIN_GAP_MS || p.checkinCount === 0) {
      const i = p.checkinCount % CHECKINS;
      p.checkins[i] = t;
      p.checkinNovel[i] = (seen === Seen.Never && f.subLength > 0) || ttype ? 1 : 0;
      p.checkinCount++;
      p.lastCheckin = t;
      if (p.checkinCount > MIN_CHECKIN_INTERVALS) this.scoreBeacon(p, t);
    }
    p.lastSeen = t;
    if (p.n % PAIR_EVAL_EVERY === 0) this.scorePair(p, t);

    // ---- domain ----
    let d = this.memoDrops === this.drops && this.memoDomain !== undefined && this.memoDomain.domain === f.domain ? this.memoDomain : this.domains.get(f.domain);
    if (!d) {
      if (this.domains.size >= s.maxTracked) this.evictOldest(this.domains, t);
      d = {
        domain: f.domain, n: 0, lastSeen: t, win: new SlidingCounters(D_FIELDS, BUCKETS, bucketMs),
        subs: new RecentKeys(1024), clients: new RecentKeys(1024), major: e.client, majorCount: 0,
      };
      this.domains.set(f.domain, d);
    }
    d.n++;
    d.lastSeen = t;
    const db = d.win.slot(t);
    d.win.add(db, D_Q, w);
    d.win.add(db, D_FAIL, fail * w);
    if (d.subs.see(f.sub, t, windowMs) !== Seen.InWindow) d.win.add(db, D_NOVEL, w);
    d.clients.see(e.client, t, windowMs);
    d.win.add(db, D_MAXLABEL, f.maxLabelLength * w);
    d.win.add(db, D_ENTROPY, f.entropy * w);
    if (d.major === e.client) d.majorCount++;
    else if (d.majorCount === 0) { d.major = e.client; d.majorCount = 1; }
    else d.majorCount--;
    if (d.n % DOMAIN_EVAL_EVERY === 0) this.scoreDomain(d, t);

    // ---- client (UDP only: amplification needs a spoofable transport) ----
    if (e.transport === 'udp') {
      let c = this.memoDrops === this.drops && this.memoClient !== undefined && this.memoClient.client === e.client ? this.memoClient : this.clients.get(e.client);
      if (!c) {
        if (this.clients.size >= s.maxTracked) this.evictOldest(this.clients, t);
        c = { client: e.client, n: 0, lastSeen: t, win: new SlidingCounters(C_FIELDS, BUCKETS, bucketMs), major: f.domain, majorCount: 0 };
        this.clients.set(e.client, c);
      }
      c.n++;
      c.lastSeen = t;
      const cb = c.win.slot(t);
      c.win.add(cb, C_Q, w);
      c.win.add(cb, C_IN, e.bytesIn * w);
      c.win.add(cb, C_OUT, e.bytesOut * w);
      if (c.major === f.domain) c.majorCount++;
      else if (c.majorCount === 0) { c.major = f.domain; c.majorCount = 1; }
      else c.majorCount--;
      if (c.n % CLIENT_EVAL_EVERY === 0) this.scoreClient(c, t);
      this.memoClient = c;
    }
    this.memoPair = p;
    this.memoDomain = d;
    this.memoDrops = this.drops;
  }

  /**
   * Names carrying data: long, high-entropy, never-repeating subdomains in volume. With
   * TXT/NULL/CNAME/unusual types carrying the answers it is a tunnel; with everyday types it
   * is one-way exfiltration.
   */
  private scorePair(p: PairState, t: number): void {
    const w = p.win.sum(t, this.scratch);
    const q = w[P_Q]!;
    if (q < MIN_PAIR_QUERIES) return;
    const avgLen = w[P_SUBLEN]! / q;
    const entropy = w[P_ENTROPY]! / q;
    const novelty = w[P_NOVEL]! / q;
    const typeShare = w[P_TTYPE]! / q;
    const volume = w[P_SUBLEN]!;
    const sLen = clamp((avgLen - 20) / 40);
    const sEnt = clamp((entropy - 3) / 1.2);
    const tunnel = typeShare >= 0.3;
    // Volume gates: a tunnel keeps polling (an idle dnscat2 session is ~1500 encoded characters a
    // minute); one-way exfiltration comes in bursts, and hash-lookup services (anti-virus
    // reputation by DNS) send a steady trickle of similar names that must stay below the gate.
    const score = tunnel
      ? (0.3 * sLen + 0.3 * sEnt + 0.2 * novelty + 0.2 * typeShare) * clamp(volume / 1500)
      : (0.4 * sLen + 0.4 * sEnt + 0.2 * novelty) * clamp(volume / 4000);
    const type: FindingType = tunnel ? 'tunneling' : 'exfiltration';
    if (score < this.settings.thresholds[type]) return;
    const seconds = this.settings.windowMs / 1000;
    this.raise(type, p.domain, p.client, score, t, {
      queries: q,
      qps: round(q / seconds),
      distinctNames: w[P_NOVEL]!,
      avgSubdomainLength: round(avgLen, 1),
      avgMaxLabelLength: round(w[P_MAXLABEL]! / q, 1),
      entropyBitsPerChar: round(entropy),
      tunnelTypeShare: round(typeShare),
      nxdomainRatio: round(w[P_NX]! / q),
      encodedCharsInWindow: volume,
      bytesIn: w[P_IN]!,
      bytesOut: w[P_OUT]!,
      windowSeconds: seconds,
    });
  }

  /**
   * A timer calling home: check-ins at regular intervals (low coefficient of variation) that
   * carry something new each time (a never-seen name or a tunnel type). A regular timer alone
   * scores at most 0.4: NTP, connectivity checks and TTL refreshes are regular too.
   */
  private scoreBeacon(p: PairState, t: number): void {
    const k = Math.min(p.checkinCount, CHECKINS);
    const times: number[] = [];
    let novel = 0;
    for (let j = p.checkinCount - k; j < p.checkinCount; j++) {
      times.push(p.checkins[j % CHECKINS]!);
      novel += p.checkinNovel[j % CHECKINS]!;
    }
    const intervals: number[] = [];
    for (let j = 1; j < times.length; j++) intervals.push(times[j]! - times[j - 1]!);
    const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    if (mean < 2000) return; // faster than this is polling, which the tunnel score covers
    const sd = Math.sqrt(intervals.reduce((a, b) => a + (b - mean) ** 2, 0) / intervals.length);
    const cv = sd / mean;
    const regularity = clamp(1 - cv / 0.3);
    const novelty = novel / k;
    const score = regularity * (0.4 + 0.6 * novelty);
    if (score < this.settings.thresholds.beaconing) return;
    this.raise('beaconing', p.domain, p.client, score, t, {
      checkins: k,
      meanIntervalSeconds: round(mean / 1000, 1),
      coefficientOfVariation: round(cv, 3),
      noveltyShare: round(novelty),
    });
  }

  /** Water torture: many never-seen, random-looking leftmost labels that fail, at a rate. */
  private scoreDomain(d: DomainState, t: number): void {
    const w = d.win.sum(t, this.scratch);
    const q = w[D_Q]!;
    if (q < MIN_DOMAIN_QUERIES) return;
    const seconds = this.settings.windowMs / 1000;
    const failRatio = w[D_FAIL]! / q;
    const novelty = w[D_NOVEL]! / q;
    const avgLabel = w[D_MAXLABEL]! / q;
    const rate = q / seconds;
    // A flood is a rate: browsers' random intranet-redirect probes (3 random names per start,
    // failing under the search suffix) have every other trait of water torture.
    const sRate = clamp(rate / 10);
    // Random labels are long; DNSBL and reverse (PTR) lookups fail a lot too, but with short labels.
    const sRandom = clamp((avgLabel - 3) / 7);
    const score = (0.6 * failRatio + 0.4 * novelty) * (0.3 + 0.7 * sRandom) * sRate;
    if (score < this.settings.thresholds['random-subdomain']) return;
    const clientCount = d.clients.countSince(t - this.settings.windowMs);
    const client = clientCount <= 1 ? d.major : '*';
    this.raise('random-subdomain', d.domain, client, score, t, {
      queries: q,
      qps: round(rate),
      distinctNames: w[D_NOVEL]!,
      failRatio: round(failRatio),
      avgLongestLabel: round(avgLabel, 1),
      entropyBitsPerChar: round(w[D_ENTROPY]! / q),
      clients: clientCount,
      topClient: this.mapClient(d.major),
      windowSeconds: seconds,
    });
  }

  /** Reflection: a (spoofable, UDP) source receiving far more bytes than it sends, in volume. */
  private scoreClient(c: ClientState, t: number): void {
    const w = c.win.sum(t, this.scratch);
    const q = w[C_Q]!;
    if (q < MIN_CLIENT_QUERIES) return;
    const bytesIn = w[C_IN]!;
    const bytesOut = w[C_OUT]!;
    const ratio = bytesOut / Math.max(1, bytesIn);
    const perMinute = (bytesOut * 60000) / this.settings.windowMs;
    const score = clamp((ratio - 3) / 12) * clamp(perMinute / 500_000);
    if (score < this.settings.thresholds.amplification) return;
    const seconds = this.settings.windowMs / 1000;
    this.raise('amplification', c.major, c.client, score, t, {
      queries: q,
      qps: round(q / seconds),
      bytesIn,
      bytesOut,
      amplification: round(ratio, 1),
      bytesOutPerMinute: Math.round(perMinute),
      windowSeconds: seconds,
    });
  }

  private raise(type: FindingType, domain: string, rawClient: string, score: number, t: number, evidence: Record<string, number | string>): void {
    const key = type + '|' + domain + '|' + rawClient;
    let a = this.alertMap.get(key);
    const fresh = !a;
    if (!a) {
      if (this.alertMap.size >= MAX_ALERTS) this.expireAlerts(t, true);
      a = { type, domain, rawClient, client: rawClient === '*' ? '*' : this.mapClient(rawClient), score, first: t, last: t, count: 0, evidence };
      this.alertMap.set(key, a);
    } else {
      // Keep the alert's place in insertion order meaning "least recently raised first".
      this.alertMap.delete(key);
      this.alertMap.set(key, a);
    }
    a.count++;
    a.last = t;
    if (score >= a.score) {
      a.score = score;
      a.evidence = evidence;
    }
    const action = this.settings.actions[type];
    let until: number | undefined;
    if (action !== 'alert') {
      const ek = this.enforcementKey(type, domain, rawClient);
      until = t + this.settings.actionDurationMs;
      const prev = this.enforced.get(ek);
      const text = `${type} detected${domain && type !== 'amplification' ? ` for ${domain}` : ''} (score ${round(a.score)}); ${action === 'block' ? 'blocked' : 'throttled'}`;
      this.enforced.set(ek, {
        action: prev?.action === 'block' ? 'block' : action,
        reason: type,
        until,
        text,
        tokens: prev?.tokens ?? this.settings.throttleRate,
        refilled: prev?.refilled ?? t,
      });
    }
    this.onAlert?.(this.view(a, action, until), fresh);
  }

  /**
   * Scope of an action: a random-subdomain flood is throttled for the domain as a whole (it
   * comes from many clients); amplification for the source; the rest for the (client, domain).
   */
  private enforcementKey(type: FindingType, domain: string, client: string): string {
    if (type === 'random-subdomain') return 'd|' + domain;
    if (type === 'amplification') return 'c|' + client;
    return 'p|' + client + '|' + domain;
  }

  /** True while some client, domain or pair is throttled or blocked (decide() may act). */
  get enforcing(): boolean {
    return this.enforced.size > 0;
  }

  /**
   * What to do with a query before answering it. Cheap when nothing is enforced (one size
   * check); otherwise a registered-domain split and up to three map lookups.
   */
  decide(client: string, qname: QueryEvent['qname']): Decision | undefined {
    if (this.enforced.size === 0) return undefined;
    const now = this.clock();
    const f = nameFeatures(qname);
    const keys = ['c|' + client, 'd|' + f.domain, 'p|' + client + '|' + f.domain];
    for (const k of keys) {
      const en = this.enforced.get(k);
      if (!en) continue;
      if (en.until <= now) {
        this.enforced.delete(k);
        continue;
      }
      if (this.allow.allowsClient(client) || this.allow.allowsName(f.domain)) return undefined;
      if (en.action === 'throttle') {
        const rate = this.settings.throttleRate;
        en.tokens = Math.min(Math.max(1, rate), en.tokens + ((now - en.refilled) / 1000) * rate);
        en.refilled = now;
        if (en.tokens >= 1) {
          en.tokens -= 1;
          return undefined;
        }
      }
      const decision: Decision = {
        action: en.action,
        rcode: Rcode.REFUSED,
        ede: { infoCode: en.action === 'block' ? EdeCode.BLOCKED : EdeCode.OTHER, text: en.text },
        reason: en.reason,
      };
      this.onAction?.(decision);
      return decision;
    }
    return undefined;
  }

  /** Current alerts, most recently raised first. */
  alerts(): Alert[] {
    const out: Alert[] = [];
    for (const a of this.alertMap.values()) {
      const action = this.settings.actions[a.type];
      const en = action === 'alert' ? undefined : this.enforced.get(this.enforcementKey(a.type, a.domain, a.rawClient));
      out.push(this.view(a, action, en?.until));
    }
    return out.reverse();
  }

  /** Drops alerts and enforcement (e.g. `POST /api/alerts/clear`, or tests). */
  clear(): void {
    this.alertMap.clear();
    this.enforced.clear();
  }

  private view(a: AlertState, action: Action, until: number | undefined): Alert {
    return {
      type: a.type, domain: a.domain, client: a.client, score: round(a.score), first: a.first, last: a.last,
      count: a.count, action, ...(until !== undefined ? { until } : {}), evidence: a.evidence,
    };
  }

  private expireAlerts(t: number, forceOne: boolean): void {
    for (const [k, a] of this.alertMap) {
      if (t - a.last > ALERT_RETENTION_MS) this.alertMap.delete(k);
    }
    if (forceOne && this.alertMap.size >= MAX_ALERTS) {
      const oldest = this.alertMap.keys().next().value as string;
      this.alertMap.delete(oldest);
    }
  }

  /** Forgets idle state; runs every few thousand queries. */
  private sweep(t: number): void {
    this.drops++;
    const w = this.settings.windowMs;
    for (const [k, p] of this.pairs) if (t - p.lastSeen > Math.max(w, PAIR_IDLE_MS)) this.pairs.delete(k);
    for (const [k, d] of this.domains) if (t - d.lastSeen > w) this.domains.delete(k);
    for (const [k, c] of this.clients) if (t - c.lastSeen > w) this.clients.delete(k);
    for (const [k, en] of this.enforced) if (en.until <= t) this.enforced.delete(k);
    this.expireAlerts(t, false);
  }

  /** At the cap: sweep, and if that freed nothing, drop the oldest-created tenth. */
  private evictOldest<T extends { lastSeen: number }>(map: Map<string, T>, t: number): void {
    this.sweep(t);
    if (map.size < this.settings.maxTracked) return;
    this.drops++;
    let drop = Math.max(1, Math.floor(map.size / 10));
    for (const k of map.keys()) {
      map.delete(k);
      if (--drop === 0) break;
    }
  }
}
