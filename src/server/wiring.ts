// The pipeline as the config asks for it: detection, rate limiting and cookies in `accept`,
// the view (and with it the recursion decision) in `route`, our zones then the resolver in
// `answer`, the monitor after the front step in `finalize`. Long-lived parts (monitor,
// resolver and its cache, cookie secret, rate-limit buckets, zone signers) live in `Runtime`
// and survive reloads unless their config section changed.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Endpoint, Next, Reply, Request, Step } from '../transport/handler.js';
import { SLOW, type FastNext, type FastQuery, type FastResult } from '../transport/fast.js';
import { EdeCode, encodeMessage, Name, Rcode, RRClass, type Message } from '../wire/index.js';
import { AuthoritativeStep, NO_ZONE } from '../authoritative/step.js';
import { ZoneSet } from '../authoritative/zone-set.js';
import type { Zone } from '../zone/zone.js';
import { Acl, AclRegistry, type AclSubject } from '../policy/acl.js';
import { RateLimiter, RateLimitStep } from '../policy/rate-limit.js';
import { CookieJar } from '../policy/cookies.js';
import { CookieStep } from '../policy/cookie-step.js';
import { Resolver, ResolverStep, resolverOptionsFromConfig, NetUpstream, type ResolverConfig, type Upstream } from '../resolver/index.js';
import { Monitor } from '../monitor/monitor.js';
import type { QueryEvent } from '../monitor/types.js';
import { DnstapSink, dnstapSinkOptions, registerDnstapMetrics } from '../monitor/dnstap.js';
import { registerResolverMetrics } from '../monitor/resolver-metrics.js';
import { ZoneSigner } from '../dnssec/signer-service.js';
import { signerSettings } from '../dnssec/signer-config.js';
import type { Config, ZoneConfig } from './config.js';
import type { Logger } from './log.js';
import { makeResponse } from './response.js';
import { zoneOrigin } from './zones.js';

/** Key of a served zone: its origin's key, or `VIEW\0ORIGIN` for a zone entry written inside a view. */
export function servedKey(zc: Pick<ZoneConfig, 'name'>, view?: string): string {
  const origin = zoneOrigin(zc.name).key;
  return view === undefined ? origin : `${view}\u0000${origin}`;
}

export function isViewKey(key: string): boolean {
  return key.includes('\u0000');
}

/** Every zone entry to load: the global `zones:` and full entries written inside views. */
export function zoneEntries(config: Config): Array<{ zc: ZoneConfig; key: string; view?: string }> {
  const out: Array<{ zc: ZoneConfig; key: string; view?: string }> = config.zones.map((zc) => ({ zc, key: servedKey(zc) }));
  for (const v of config.views ?? []) for (const zc of v.zones) if (typeof zc !== 'string') out.push({ zc, key: servedKey(zc, v.name), view: v.name });
  return out;
}

/** What the wiring needs from the server. */
export interface ServerContext {
  readonly config: Config;
  readonly logger: Logger;
  /** The served zones by `servedKey`; a new map on every swap. */
  served(): ReadonlyMap<string, { readonly zone: Zone }>;
}

/** ACL entries with a bare TSIG key name turned into `key NAME` (the config allows both). */
function aclEntries(entries: readonly string[], config: Config): string[] {
  return entries.map((e) => {
    const neg = e.startsWith('!');
    const body = neg ? e.slice(1).trim() : e.trim();
    if (config.keys?.[body] && !config.acl?.[body]) return `${neg ? '!' : ''}key ${body}`;
    return e;
  });
}

export function aclRegistry(config: Config): AclRegistry {
  const defs: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(config.acl ?? {})) defs[name] = aclEntries(list, config);
  return new AclRegistry(defs);
}

export function subjectOf(req: Request): AclSubject {
  const key = req.state.tsigKey;
  return typeof key === 'string' ? { address: req.client.address, key } : { address: req.client.address };
}

/** Who may recurse when the view says nothing: none without `resolver:`, loopback without `allow`. */
function globalRecursion(config: Config, acls: AclRegistry): Acl {
  if (!config.resolver) return Acl.none;
  const allow = config.resolver.allow;
  if (allow === undefined) return acls.get('localhost');
  return allow.length ? acls.inline('resolver.allow', aclEntries(allow, config)) : Acl.none;
}

/** One view (or the single implicit one when `views:` is absent). */
export interface ViewRuntime {
  readonly name: string | undefined;
  readonly clients: Acl;
  readonly destinations: Acl | undefined;
  readonly keys: ReadonlySet<string> | undefined;
  readonly recursion: Acl;
  /** Served keys of this view's zones. */
  readonly zoneKeys: readonly string[];
  /** Per zone origin key: its allow-query ACL; `defaultQuery` for the rest (undefined: any). */
  readonly allowQuery: ReadonlyMap<string, Acl>;
  readonly defaultQuery: Acl | undefined;
  readonly auth: AuthoritativeStep;
  zones(): ZoneSet;
}

/** The views of a config, each with its own ZoneSet (rebuilt lazily after a zone swap). */
export class ViewTable {
  readonly views: ViewRuntime[] = [];
  readonly explicit: boolean;

  constructor(private readonly ctx: ServerContext, config: Config, acls: AclRegistry) {
    const id = config.identity;
    const authOpts = { identity: { version: id.version, hostname: id.hostname, serverId: id['server-id'] }, anyPolicy: config.any };
    const defaultQuery = config['allow-query'] ? acls.inline('allow-query', aclEntries(config['allow-query'], config)) : undefined;
    const recursion = globalRecursion(config, acls);
    const byName = new Map(config.zones.map((zc) => [zoneOrigin(zc.name).key, zc]));
    const queryAcl = (zc: ZoneConfig, label: string) => (zc['allow-query'] ? acls.inline(label, aclEntries(zc['allow-query'], config)) : undefined);
    const make = (
      name: string | undefined, clients: Acl, destinations: Acl | undefined, keys: ReadonlySet<string> | undefined,
      rec: Acl, entries: Array<{ key: string; zc: ZoneConfig }>,
    ): ViewRuntime => {
      const allowQuery = new Map<string, Acl>();
      for (const { zc } of entries) {
        const acl = queryAcl(zc, `${name ?? ''}/${zc.name}/allow-query`);
        if (acl) allowQuery.set(zoneOrigin(zc.name).key, acl);
      }
      // Without views every zone the server serves is in the one implicit view, including zones
      // that appear at run time (catalog members); explicit views list their zones.
      const zoneKeys = entries.map((e) => e.key);
      const allServed = name === undefined && config.views === undefined;
      let cachedFor: ReadonlyMap<string, { readonly zone: Zone }> | undefined;
      let cachedSet = new ZoneSet([]);
      const zones = (): ZoneSet => {
        const served = ctx.served();
        if (served !== cachedFor) {
          const list: Zone[] = [];
          if (allServed) {
            for (const [k, s] of served) if (!k.includes('\0')) list.push(s.zone);
          } else {
            for (const k of zoneKeys) {
              const s = served.get(k);
              if (s) list.push(s.zone);
            }
          }
          cachedSet = new ZoneSet(list);
          cachedFor = served;
        }
        return cachedSet;
      };
      const auth = new AuthoritativeStep(zones, authOpts);
      return { name, clients, destinations, keys, recursion: rec, zoneKeys, allowQuery, defaultQuery, auth, zones };
    };

    this.explicit = config.views !== undefined;
    if (!config.views) {
      this.views.push(make(undefined, Acl.any, undefined, undefined, recursion, config.zones.map((zc) => ({ key: servedKey(zc), zc }))));
      return;
    }
    for (const v of config.views) {
      const entries: Array<{ key: string; zc: ZoneConfig }> = [];
      for (const ref of v.zones) {
        if (typeof ref !== 'string') {
          entries.push({ key: servedKey(ref, v.name), zc: ref });
          continue;
        }
        const zc = byName.get(zoneOrigin(ref).key);
        if (!zc) {
          ctx.logger.warn({ view: v.name, zone: ref }, `view "${v.name}": zone "${ref}" is not defined in "zones:"; not served in this view`);
          continue;
        }
        entries.push({ key: servedKey(zc), zc });
      }
      const clients = acls.inline(`views.${v.name}.clients`, aclEntries(v.clients, config));
      const destinations = v.destinations ? acls.inline(`views.${v.name}.destinations`, aclEntries(v.destinations, config)) : undefined;
      const rec = v.recursion ? (v.recursion.length ? acls.inline(`views.${v.name}.recursion`, aclEntries(v.recursion, config)) : Acl.none) : recursion;
      const keys = v.keys ? new Set(v.keys.map((k) => k.toLowerCase().replace(/\.$/, ''))) : undefined;
      this.views.push(make(v.name, clients, destinations, keys, rec, entries));
    }
  }

  /** The first view that takes this request (BIND: match-clients, match-destinations, keys). */
  select(req: Request): number {
    return this.selectFor(subjectOf(req), req.local.address);
  }

  /** select() for a client (and its TSIG key, if any) and the address it asked. */
  selectFor(subject: AclSubject, localAddress: string): number {
    for (let i = 0; i < this.views.length; i++) {
      const v = this.views[i]!;
      if (!v.clients.allows(subject)) continue;
      if (v.destinations && !v.destinations.allows({ address: localAddress })) continue;
      if (v.keys && !(subject.key !== undefined && v.keys.has(subject.key.toLowerCase().replace(/\.$/, '')))) continue;
      return i;
    }
    return -1;
  }

}

function refused(req: Request, infoCode: number, text: string, reason: string): Reply {
  return { message: makeResponse(req.message, Rcode.REFUSED, { infoCode, text }), reason };
}

/** `route`: picks the view and decides whether the client may recurse. */
export class ViewStep implements Step {
  readonly name = 'view';
  readonly phase = 'route' as const;
  constructor(private readonly table: ViewTable) {}

  async handle(req: Request, next: Next): Promise<Reply> {
    const i = this.table.select(req);
    if (i < 0) return refused(req, EdeCode.PROHIBITED, 'no view for this client', 'no-view');
    const v = this.table.views[i]!;
    req.state.viewIndex = i;
    if (v.name !== undefined) req.state.view = v.name;
    req.state.recursionAllowed = v.recursion.allows(subjectOf(req));
    return next(req);
  }

  private readonly subject: { address: string } = { address: '' };

  /** A plain query has no TSIG key: a view that requires keys never takes it (as in select()). */
  fast(q: FastQuery, next: FastNext): FastResult {
    // One subject object for every fast query: the ACLs read it and keep nothing of it.
    const subject = this.subject;
    subject.address = q.client;
    const i = this.table.selectFor(subject, q.local.address);
    if (i < 0) return SLOW;
    const v = this.table.views[i]!;
    q.viewIndex = i;
    q.view = v.name;
    q.recursionAllowed = v.recursion.allows(subject);
    return next(q);
  }
}

/** `answer`: the view's zones, after its allow-query check; other names go on to the resolver. */
export class ZonesStep implements Step {
  readonly name = 'authoritative';
  readonly phase = 'answer' as const;
  constructor(private readonly table: ViewTable) {}

  async handle(req: Request, next: Next): Promise<Reply> {
    const v = this.table.views[(req.state.viewIndex as number | undefined) ?? 0];
    if (!v) return next(req);
    const q = req.message.question[0];
    if (q && (v.defaultQuery || v.allowQuery.size)) {
      const zone = v.zones().findForQuery(q.name, q.type, q.class);
      if (zone) {
        const acl = v.allowQuery.get(zone.origin.key) ?? v.defaultQuery;
        if (acl && !acl.allows(subjectOf(req))) return refused(req, EdeCode.PROHIBITED, 'query not allowed', 'allow-query');
      }
    }
    return v.auth.handle(req, next);
  }

  /** A precompiled answer of the view (after its allow-query check), or on for names outside its zones. */
  fast(q: FastQuery, next: FastNext): FastResult {
    const v = this.table.views[q.viewIndex];
    if (!v) return next(q);
    const hit = v.auth.fastHit(q);
    if (hit === undefined) return SLOW;
    if (hit === NO_ZONE) return next(q);
    if (v.defaultQuery || v.allowQuery.size) {
      const acl = v.allowQuery.get(hit.zone.origin.key) ?? v.defaultQuery;
      if (acl && !acl.allows({ address: q.client })) return SLOW;
    }
    q.zone = hit.originText;
    q.qname = hit.name;
    return v.auth.patch(q);
  }

  /** Precompiled answers held over all views. */
  get cachedAnswers(): number {
    return this.table.views.reduce((n, v) => n + v.auth.cachedAnswers, 0);
  }
}

/** `answer`: the resolver for clients the view lets recurse; marks the request recursive. */
export class RecursionStep implements Step {
  readonly name = 'resolver';
  readonly phase = 'answer' as const;
  private readonly inner: ResolverStep;
  constructor(resolver: Resolver, udpSize: number) {
    // The route step always decides; the fallback only matters for pipelines without it.
    this.inner = new ResolverStep(resolver, { allow: () => false, ednsUdpSize: udpSize });
  }

  async handle(req: Request, next: Next): Promise<Reply> {
    if (req.state.recursionAllowed) req.state.recursive = true;
    return this.inner.handle(req, next);
  }

  /** A cached resolver answer for clients that may recurse; the pipeline for the rest. */
  fast(q: FastQuery, next: FastNext): FastResult {
    if (!q.recursionAllowed) return next(q);
    const out = this.inner.fastAnswer(q.raw, q.qnameEnd, q.do, q.hash, q.view, q.out);
    if (out === undefined) return SLOW;
    q.recursive = true;
    q.cached = true;
    q.qname = this.inner.lastAnswerName;
    return out;
  }
}

/** `accept`: the detector's verdict (block / throttle) before any work is done. */
export class DetectionStep implements Step {
  readonly name = 'detection';
  readonly phase = 'accept' as const;
  constructor(private readonly monitor: Monitor) {}

  async handle(req: Request, next: Next): Promise<Reply> {
    const q = req.message.question[0];
    if (!q) return next(req);
    const d = this.monitor.decide(req.client.address, q.name);
    if (!d) return next(req);
    return { message: makeResponse(req.message, d.rcode, d.ede), reason: `detection-${d.action}` };
  }

  /** While nothing is enforced, decide() answers nothing: on. Otherwise the pipeline decides. */
  fast(q: FastQuery, next: FastNext): FastResult {
    return this.monitor.enforcing ? SLOW : next(q);
  }
}

/** `finalize`, after the front step: one `observe` per reply, with the bytes really sent. */
export class MonitorStep implements Step {
  readonly name = 'monitor';
  readonly phase = 'finalize' as const;
  constructor(private readonly monitor: Monitor) {}

  async handle(req: Request, next: Next): Promise<Reply> {
    const reply = await next(req);
    const q = req.message.question[0];
    const wire = reply.wire;
    const dropped = reply.drop === true || !wire;
    const reason = reply.reason ?? '';
    this.monitor.observe({
      time: Date.now(),
      client: req.client.address,
      transport: req.transport,
      qname: q ? q.name : '.',
      qtype: q ? q.type : 0,
      rcode: wire && wire.length >= 4 ? wire[3]! & 0x0f : 0,
      bytesIn: req.raw.length,
      bytesOut: wire ? wire.length : 0,
      zone: req.state.zone,
      view: req.state.view,
      latencyMs: Number(process.hrtime.bigint() - req.receivedAt) / 1e6,
      recursive: req.state.recursive === true,
      flags: {
        tc: !dropped && wire!.length >= 3 && (wire![2]! & 0x02) !== 0,
        rateLimited: reason.startsWith('rate-limit'),
        dropped,
        cached: req.state.cached === true,
      },
    });
    return reply;
  }

  /**
   * One event object for every fast-path observation: observe() reads it synchronously and
   * keeps nothing of it (the query log and the detector copy the fields they need).
   */
  private readonly event: Omit<Mutable<QueryEvent>, 'flags'> & { flags: Mutable<QueryEvent['flags']> } = {
    time: 0, client: '', transport: 'udp', qname: '.', qtype: 0, rcode: 0, bytesIn: 0, bytesOut: 0,
    zone: undefined, view: undefined, latencyMs: 0, recursive: false,
    flags: { tc: false, rateLimited: false, dropped: false, cached: false },
  };

  /** The same observation for a fast-path answer (or a fast-path drop by the rate limiter). */
  fast(q: FastQuery, next: FastNext): FastResult {
    const wire = next(q);
    if (wire === undefined) return wire;
    const e = this.event;
    const answered = wire !== null;
    e.time = q.time;
    e.client = q.client;
    e.qname = q.qname ?? Name.fromWire(q.raw, 12, q.raw.length).name;
    e.qtype = q.qtype;
    e.rcode = answered ? wire[3]! & 0x0f : 0;
    e.bytesIn = q.raw.length;
    e.bytesOut = answered ? wire.length : 0;
    e.zone = q.zone;
    e.view = q.view;
    e.latencyMs = performance.now() - q.receivedAt;
    e.recursive = q.recursive;
    e.flags.tc = answered && (wire[2]! & 0x02) !== 0;
    e.flags.rateLimited = q.rateLimited;
    e.flags.dropped = !answered;
    e.flags.cached = q.cached;
    this.monitor.observe(e);
    return wire;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * `finalize`, outermost: dnstap for client traffic. CLIENT_QUERY as the query arrives (so a
 * query that is dropped or never answered is still seen), CLIENT_RESPONSE with the bytes
 * really sent (TSIG and OPT included), and AUTH_QUERY/AUTH_RESPONSE for answers with AA set
 * when `auth-queries`/`auth-responses` ask for them. Zone transfer streams are not logged.
 */
export class DnstapStep implements Step {
  readonly name = 'dnstap';
  readonly phase = 'finalize' as const;
  private readonly clientQuery: boolean;
  private readonly clientResponse: boolean;
  private readonly authQuery: boolean;
  private readonly authResponse: boolean;

  constructor(private readonly sink: DnstapSink) {
    this.clientQuery = sink.wants('client-query');
    this.clientResponse = sink.wants('client-response');
    this.authQuery = sink.wants('auth-query');
    this.authResponse = sink.wants('auth-response');
  }

  async handle(req: Request, next: Next): Promise<Reply> {
    if (this.clientQuery) this.sink.logClientQuery(req, req.raw);
    const reply = await next(req);
    const wire = reply.drop ? undefined : reply.wire;
    if (!wire) return reply;
    if (this.clientResponse) this.sink.logClientResponse(req, wire);
    // AA: the answer came from our zones (the resolver never sets it).
    if ((this.authQuery || this.authResponse) && wire.length >= 3 && (wire[2]! & 0x04) !== 0) {
      if (this.authQuery) this.sink.logAuthQuery(req, req.raw);
      if (this.authResponse) this.sink.logAuthResponse(req, wire);
    }
    return reply;
  }
}

/**
 * RESOLVER_QUERY/RESOLVER_RESPONSE from what the `Upstream` interface shows: the decoded
 * query and answer, re-encoded. The query frame carries the ID the answer came back with
 * (NetUpstream picks a fresh random ID per query and accepts only an answer with it); our
 * source address and port and the zone asked about are not known here, so they are left out.
 */
export class DnstapUpstream implements Upstream {
  constructor(private readonly inner: Upstream, private readonly sink: () => DnstapSink | undefined) {}

  async query(...args: Parameters<Upstream['query']>): Promise<Message> {
    const sink = this.sink();
    const wantQ = sink?.wants('resolver-query') === true;
    const wantR = sink?.wants('resolver-response') === true;
    if (!sink || (!wantQ && !wantR)) return this.inner.query(...args);
    const [server, msg, opts] = args;
    const info = { server, protocol: opts.tcp ? ('tcp' as const) : ('udp' as const), sentAt: process.hrtime.bigint() };
    const sentAtMs = Date.now();
    let m: Message;
    try {
      m = await this.inner.query(...args);
    } catch (e) {
      if (wantQ) this.sink()?.logResolverQuery(info, safeEncode(msg) ?? new Uint8Array(0), sentAtMs);
      throw e;
    }
    const out = this.sink();
    const queryWire = safeEncode({ ...msg, id: m.id });
    if (out && wantQ && queryWire) out.logResolverQuery(info, queryWire, sentAtMs);
    const answerWire = wantR ? safeEncode(m) : undefined;
    if (out && answerWire) out.logResolverResponse(info, answerWire);
    return m;
  }
}

function safeEncode(m: Message): Uint8Array | undefined {
  try {
    return encodeMessage(m);
  } catch {
    return undefined;
  }
}

/** Counts upstream queries and failures for the monitor. */
class CountingUpstream implements Upstream {
  constructor(private readonly inner: Upstream, private readonly monitor: Monitor) {}
  async query(...args: Parameters<Upstream['query']>): Promise<Message> {
    try {
      const m = await this.inner.query(...args);
      this.monitor.upstream(m.rcode === Rcode.SERVFAIL ? 'servfail' : 'ok');
      return m;
    } catch (e) {
      this.monitor.upstream((e as { kind?: string }).kind ?? 'network');
      throw e;
    }
  }
}

/** The recursion-related part of the resolver section: a change needs a new resolver. */
function resolverKey(r: Config['resolver']): string {
  if (!r) return '';
  const { allow: _a, 'open-resolver': _o, ...rest } = r;
  return JSON.stringify(rest);
}

/**
 * The parts of the server that outlive a reload: the monitor (counters, detector windows), the
 * resolver (its cache), the cookie secret, the rate-limit buckets and the zone signers.
 */
export class Runtime {
  readonly monitor: Monitor;
  resolver: Resolver | undefined;
  private resolverFor = '';
  limiter: RateLimiter | undefined;
  private limiterFor = '';
  cookies: CookieJar | undefined;
  private cookiesFor = '';
  private readonly randomSecret = new Uint8Array(randomBytes(16));
  readonly signers = new Map<string, { signer: ZoneSigner; settingsKey: string }>();
  /** The signer each served zone was last loaded with (a change forces a new load). */
  readonly loadedWith = new Map<string, ZoneSigner | undefined>();
  /** The steps of the current pipeline, for stats. */
  views: ViewTable | undefined;
  rateLimitStep: RateLimitStep | undefined;
  cookieStep: CookieStep | undefined;
  /** The dnstap output (`dnstap:`), kept across reloads while its section is unchanged. */
  dnstap: DnstapSink | undefined;
  private dnstapFor = '';

  constructor(private readonly logger: Logger, config: Config) {
    this.monitor = new Monitor({
      monitor: config.monitor,
      queryLog: config['query-log'],
      detection: config.detection,
      logger,
      defaultMetrics: true,
    });
    // Registered when the registry is first read: serving alone never loads prom-client.
    this.monitor.addMetrics((r) => registerDnstapMetrics(r, () => this.dnstap));
    this.monitor.addMetrics((r) => registerResolverMetrics(r, () => this.resolver));
  }

  /**
   * Opens, keeps or replaces the dnstap sink for `config`. A changed section closes the old
   * sink first (its queue written, STOP sent; a file would otherwise be truncated under it).
   */
  async configureDnstap(config: Config): Promise<void> {
    const key = config.dnstap ? JSON.stringify(config.dnstap) : '';
    if (key === this.dnstapFor && (this.dnstap !== undefined) === (key !== '')) return;
    const old = this.dnstap;
    this.dnstap = undefined;
    this.dnstapFor = '';
    if (old) await old.close();
    if (!config.dnstap) return;
    const logger = this.logger;
    this.dnstap = new DnstapSink({
      ...dnstapSinkOptions(config.dnstap),
      onError: (err) => logger.warn({ err: err.message }, 'dnstap output lost; frames are dropped until it is back'),
    });
    this.dnstapFor = key;
  }

  /** Closes what holds files or sockets (the dnstap output). */
  async close(): Promise<void> {
    const sink = this.dnstap;
    this.dnstap = undefined;
    this.dnstapFor = '';
    if (sink) await sink.close();
  }

  /** Builds the configured steps (the FrontStep is the server's). Throws on bad files (trust anchors, secrets). */
  steps(ctx: ServerContext, config: Config): Step[] {
    this.monitor.reconfigure({ monitor: config.monitor, queryLog: config['query-log'] ?? {}, detection: config.detection ?? {} });
    const acls = aclRegistry(config);
    const steps: Step[] = [new DetectionStep(this.monitor)];

    const rl = config['rate-limit'];
    if (rl) {
      const key = JSON.stringify(rl);
      if (!this.limiter || key !== this.limiterFor) {
        this.limiter = new RateLimiter({
          responsesPerSecond: rl['responses-per-second'],
          nxdomainsPerSecond: rl['nxdomains-per-second'],
          nodataPerSecond: rl['nodata-per-second'],
          referralsPerSecond: rl['referrals-per-second'],
          errorsPerSecond: rl['errors-per-second'],
          slip: rl.slip,
          window: rl.window,
          ipv4PrefixLength: rl['ipv4-prefix-length'],
          ipv6PrefixLength: rl['ipv6-prefix-length'],
          exempt: rl.exempt ? acls.inline('rate-limit.exempt', aclEntries(rl.exempt, config)) : undefined,
          logOnly: rl['log-only'],
          maxBuckets: rl['max-buckets'],
        });
        this.limiterFor = key;
      }
      this.rateLimitStep = new RateLimitStep(this.limiter);
      steps.push(this.rateLimitStep);
    } else {
      this.limiter = undefined;
      this.rateLimitStep = undefined;
    }

    const ck = config.cookies;
    if (ck.enabled) {
      const key = JSON.stringify(ck);
      if (!this.cookies || key !== this.cookiesFor) {
        this.cookies = new CookieJar({ secret: this.cookieSecret(ck), previousSecret: ck['previous-secret'] ? hex16(ck['previous-secret']) : undefined });
        this.cookiesFor = key;
      }
      this.cookieStep = new CookieStep(this.cookies);
      steps.push(this.cookieStep);
    } else {
      this.cookies = undefined;
      this.cookieStep = undefined;
    }

    this.views = new ViewTable(ctx, config, acls);
    steps.push(new ViewStep(this.views), new ZonesStep(this.views));

    if (config.resolver) {
      const key = resolverKey(config.resolver);
      if (!this.resolver || key !== this.resolverFor) {
        const opts = resolverOptionsFromConfig(config.resolver as ResolverConfig);
        // dnstap resolver events from the bytes on the wire, with our socket's address and the
        // zone asked (NetUpstream's onExchange hook); DnstapUpstream re-encodes and is kept for
        // upstreams without the hook.
        const netUpstream = new NetUpstream({ onExchange: (x) => this.dnstap?.logResolverExchange(x) });
        opts.upstream = new CountingUpstream(netUpstream, this.monitor);
        this.resolver = new Resolver(opts);
        this.resolverFor = key;
        const r = this.resolver;
        this.monitor.setCacheSize(() => r.cache.size);
      }
      steps.push(new RecursionStep(this.resolver, config.edns['udp-size']));
    } else {
      this.resolver = undefined;
      this.monitor.setCacheSize(() => 0);
    }
    steps.push(new MonitorStep(this.monitor));
    if (this.dnstap) steps.push(new DnstapStep(this.dnstap));
    return steps;
  }

  private cookieSecret(ck: Config['cookies']): Uint8Array {
    if (ck.secret) return hex16(ck.secret);
    const file = ck['secret-file'];
    if (file) {
      const text = readFileSync(file, 'utf8').trim();
      if (!/^[0-9a-fA-F]{32}$/.test(text)) throw new Error(`cookies.secret-file ${file}: expected 32 hex digits (16 bytes)`);
      return hex16(text);
    }
    // Random per start, kept across reloads so cookies handed out stay valid.
    return this.randomSecret;
  }

  /** The signer of a zone entry with `dnssec.sign`, kept across reloads while its settings stay. */
  signerFor(key: string, zc: ZoneConfig): ZoneSigner | undefined {
    if (!zc.dnssec?.sign || !zc.file) {
      this.signers.delete(key);
      return undefined;
    }
    const settings = signerSettings(zc.dnssec, zc.file);
    const settingsKey = JSON.stringify({ ...settings, policy: { ...settings.policy, nsec3Salt: Buffer.from(settings.policy.nsec3Salt).toString('hex') } });
    const old = this.signers.get(key);
    if (old && old.settingsKey === settingsKey) return old.signer;
    const signer = new ZoneSigner(zoneOrigin(zc.name), settings, (msg) => this.logger.info({ zone: zc.name }, msg));
    this.signers.set(key, { signer, settingsKey });
    return signer;
  }

  /** Drops signers of zones no longer configured. */
  pruneSigners(keys: ReadonlySet<string>): void {
    for (const k of [...this.signers.keys()]) if (!keys.has(k)) this.signers.delete(k);
  }

  /** The earliest refresh due among the signers (seconds since the epoch), if any. */
  nextRefresh(): number | undefined {
    let at: number | undefined;
    for (const { signer } of this.signers.values()) {
      const r = signer.refreshAt;
      if (r !== undefined && Number.isFinite(r) && (at === undefined || r < at)) at = r;
    }
    return at;
  }

  /** Flushes the resolver cache (all, or one name and below). */
  flushCache(name?: string): number {
    if (!this.resolver) return 0;
    return this.resolver.cache.flush(name ? Name.parse(name.endsWith('.') ? name : name + '.') : undefined);
  }

  cacheLookup(name: string, type: number): ReturnType<Resolver['cache']['get']> {
    return this.resolver?.cache.get(Name.parse(name.endsWith('.') ? name : name + '.'), type, RRClass.IN);
  }
}

function hex16(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** The step names `serve` composes for a config, in pipeline order (for `check-config --explain`). */
export function configuredStepNames(config: Config): Array<{ name: string; phase: Step['phase'] }> {
  const out: Array<{ name: string; phase: Step['phase'] }> = [{ name: 'front', phase: 'finalize' }, { name: 'detection', phase: 'accept' }];
  if (config['rate-limit']) out.push({ name: 'rate-limit', phase: 'accept' });
  if (config.cookies.enabled) out.push({ name: 'cookies', phase: 'accept' });
  out.push({ name: config.views ? `view (${config.views.map((v) => v.name).join(', ')})` : 'view', phase: 'route' });
  out.push({ name: 'authoritative', phase: 'answer' });
  if (config.resolver) out.push({ name: 'resolver', phase: 'answer' });
  out.push({ name: 'monitor', phase: 'finalize' });
  if (config.dnstap) out.push({ name: 'dnstap', phase: 'finalize' });
  return out;
}

export type { Endpoint };
