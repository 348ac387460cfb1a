import type { FindingType, QueryEvent } from '../types.js';

/*
 * A deterministic, seeded generator of labelled DNS traffic as the monitor sees it: normal,
 * browsing-like traffic from many clients (with the awkward-but-legitimate parts real networks
 * have: CDN hash names, DNSBL and PTR lookups, reputation-service hash lookups, search-suffix
 * probes, periodic connectivity checks), mixed with attack episodes modelled on the tools:
 * iodine and dnscat2 tunnels, exfiltration bursts, water-torture floods, C2 beacons and
 * reflection/amplification. The detector test replays it with virtual time and measures
 * detection and false-positive rates (docs/monitoring.md).
 */

export type EpisodeKind = 'iodine' | 'dnscat2' | 'exfiltration' | 'water-torture' | 'beacon' | 'amplification';

export const EPISODE_FINDING: Record<EpisodeKind, FindingType> = {
  iodine: 'tunneling',
  dnscat2: 'tunneling',
  exfiltration: 'exfiltration',
  'water-torture': 'random-subdomain',
  beacon: 'beaconing',
  amplification: 'amplification',
};

export interface Episode {
  readonly id: number;
  readonly kind: EpisodeKind;
  readonly expected: FindingType;
  /** Attacker (or, for amplification, spoofed victim) addresses. */
  readonly clients: readonly string[];
  /** Domain the traffic goes to (registered domain). */
  readonly domain: string;
  readonly start: number;
  readonly end: number;
  readonly queries: number;
  readonly params: Record<string, number | string>;
}

export interface TrafficEvent extends QueryEvent {
  /** Index into `episodes`, or -1 for normal traffic. */
  readonly episode: number;
}

export interface Traffic {
  readonly start: number;
  readonly end: number;
  readonly events: readonly TrafficEvent[];
  readonly episodes: readonly Episode[];
  readonly normalClients: readonly string[];
}

export interface TrafficOptions {
  seed?: number;
  /** Virtual start time (ms). */
  start?: number;
  durationMs?: number;
  normalClients?: number;
  /** Episodes per attack kind (0 for normal traffic only). */
  episodesPerKind?: number;
  kinds?: readonly EpisodeKind[];
}

/** mulberry32: small, fast, good enough for traffic shapes, and the same everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T = { A: 1, NS: 2, CNAME: 5, SOA: 6, NULL: 10, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DNSKEY: 48, HTTPS: 65, ANY: 255, PRIVATE: 65399 };
const R = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 };

class Rng {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
  /** Zipf-like pick: low indexes much more often, like site popularity. */
  zipf<T>(a: readonly T[]): T {
    const u = this.next();
    return a[Math.min(a.length - 1, Math.floor(a.length * u ** 2.5))]!;
  }
  str(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz012345';
const BASE64ISH = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
const SYLLABLES = ['news', 'shop', 'mail', 'cloud', 'daily', 'tech', 'home', 'city', 'sport', 'blue', 'star', 'book', 'food', 'travel', 'bank', 'photo', 'music', 'game', 'learn', 'health', 'auto', 'green', 'smart', 'open', 'data', 'net', 'hub', 'zone', 'world', 'live', 'box', 'web'];
const TLDS = ['com', 'com', 'com', 'net', 'org', 'de', 'io', 'co.uk', 'fr', 'nl', 'com.au', 'info'];
const SITE_HOSTS = ['www', 'static', 'img', 'cdn', 'api', 'assets', 'media', 'login', 'accounts', 'm', 'video', 'ads', 'metrics', 'search'];

/** Wire size of a question for `qname` (header 12 + name + 4, plus an 11-byte OPT). */
function querySize(qname: string): number {
  return 12 + qname.length + 2 + 4 + 11;
}

interface Site {
  hosts: string[];
}

function buildCatalog(r: Rng): { sites: Site[]; thirdParty: string[] } {
  const thirdParty = [
    'fonts.googleapis.com', 'fonts.gstatic.com', 'www.google-analytics.com', 'www.googletagmanager.com',
    'pagead2.googlesyndication.com', 'securepubads.g.doubleclick.net', 'connect.facebook.net', 'cdn.jsdelivr.net',
    'ajax.googleapis.com', 'cdnjs.cloudflare.com', 'platform.twitter.com', 'static.cloudflareinsights.com',
    'px.ads.linkedin.com', 'bat.bing.com', 'js.stripe.com', 'www.youtube.com', 'i.ytimg.com', 'use.typekit.net',
  ];
  for (let i = 0; i < 30; i++) thirdParty.push('d' + r.str(ALNUM, 13) + '.cloudfront.net');
  for (let i = 0; i < 20; i++) thirdParty.push('e' + r.int(1000, 99999) + '.dscb.akamaiedge.net');
  for (let i = 0; i < 10; i++) thirdParty.push(r.str(HEX, 16) + '.tracker-cdn.com');
  const sites: Site[] = [];
  for (let i = 0; i < 400; i++) {
    const base = r.pick(SYLLABLES) + (r.chance(0.5) ? r.pick(SYLLABLES) : '') + (r.chance(0.2) ? String(r.int(1, 99)) : '') + '.' + r.pick(TLDS);
    const hosts = ['www.' + base];
    const own = r.int(1, 4);
    for (let j = 0; j < own; j++) hosts.push(r.pick(SITE_HOSTS) + '.' + base);
    const third = r.int(1, 6);
    for (let j = 0; j < third; j++) hosts.push(r.zipf(thirdParty));
    sites.push({ hosts: [...new Set(hosts)] });
  }
  return { sites, thirdParty };
}

export function generateTraffic(opts: TrafficOptions = {}): Traffic {
  const r = new Rng(prng(opts.seed ?? 1));
  const start = opts.start ?? 1_700_000_000_000;
  const duration = opts.durationMs ?? 45 * 60_000;
  const end = start + duration;
  const nClients = opts.normalClients ?? 150;
  const raw: TrafficEvent[] = [];
  const catalog = buildCatalog(r);

  const emit = (time: number, client: string, qname: string, qtype: number, rcode: number, bytesOut: number, episode = -1, transport = 'udp'): void => {
    if (time < start || time >= end) return;
    const bytesIn = querySize(qname);
    raw.push({
      time, client, transport, qname, qtype, rcode, bytesIn, bytesOut: Math.max(bytesOut, bytesIn), latencyMs: 0.3 + r.next() * 20,
      flags: { tc: false, rateLimited: false, dropped: false, cached: r.chance(0.7) }, episode,
    });
  };
  const answerSize = (qname: string, qtype: number, rcode: number): number => {
    const q = querySize(qname);
    if (rcode !== R.NOERROR) return q + 60 + r.int(0, 30);
    switch (qtype) {
      case T.A: return q + 16 * r.int(1, 4) + (r.chance(0.4) ? 40 : 0);
      case T.AAAA: return q + 28 * r.int(1, 2) + (r.chance(0.4) ? 40 : 0);
      case T.HTTPS: return q + (r.chance(0.5) ? 60 + r.int(0, 80) : 60);
      case T.TXT: return q + r.int(60, 450);
      case T.MX: return q + r.int(30, 120);
      default: return q + r.int(20, 120);
    }
  };

  // ---------------- normal clients ----------------
  const normalClients: string[] = [];
  for (let c = 0; c < nClients; c++) {
    const ip = `10.1.${Math.floor(c / 250)}.${(c % 250) + 1}`;
    normalClients.push(ip);
    const role = c < 2 ? 'mail' : c < 4 ? 'av' : c < 8 ? 'server' : 'desktop';
    const cache = new Map<string, number>();
    const lookup = (time: number, qname: string, types: number[], nx = false): void => {
      const seen = cache.get(qname);
      if (seen !== undefined && time - seen < 300_000) return; // the stub's own cache
      cache.set(qname, time);
      let t = time;
      for (const ty of types) {
        emit(t, ip, qname, ty, nx ? R.NXDOMAIN : R.NOERROR, answerSize(qname, ty, nx ? R.NXDOMAIN : R.NOERROR));
        t += r.int(0, 5);
      }
    };
    // Start-up: search-suffix and intranet-redirect probes (random single labels), spread out.
    const boot = start + r.int(0, 10 * 60_000);
    for (let k = 0; k < 3; k++) lookup(boot + k * 3, r.str(LOWER, r.int(7, 15)) + '.corp.example', [T.A], true);
    lookup(boot + 20, 'wpad.corp.example', [T.A], true);
    // Periodic background: connectivity check, NTP, telemetry (same names, jittered).
    const periodic: [string, number][] = [['connectivity-check.ubuntu.com', 300_000], ['pool.ntp.org', 1_024_000], ['v10.events.data.microsoft.com', 900_000]];
    for (const [name, period] of periodic) {
      for (let t = boot + r.int(0, period); t < end; t += period * (0.7 + 0.6 * r.next())) {
        cache.delete(name);
        lookup(t, name, [T.A, T.AAAA]);
      }
    }
    if (role === 'desktop') {
      let t = boot + r.int(0, 60_000);
      while (t < end) {
        const pages = r.int(3, 40);
        for (let p = 0; p < pages && t < end; p++) {
          const site = r.zipf(catalog.sites);
          for (const h of site.hosts) {
            const types = r.chance(0.6) ? [T.A, T.AAAA, T.HTTPS] : [T.A, T.AAAA];
            lookup(t + r.int(0, 1500), h, types);
          }
          if (r.chance(0.08)) {
            // Video: a few googlevideo-style cache hosts per view.
            for (let v = r.int(2, 6); v > 0; v--) lookup(t + r.int(0, 60_000), `r${r.int(1, 9)}---sn-${r.str(ALNUM, 8)}.googlevideo.com`, [T.A, T.AAAA]);
          }
          if (r.chance(0.01)) lookup(t, 'www.' + r.str(LOWER, r.int(5, 10)) + '.com', [T.A, T.AAAA], true); // typo
          if (r.chance(0.02)) lookup(t, `${r.int(1, 254)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 223)}.in-addr.arpa`, [T.PTR], r.chance(0.5));
          t += r.exp(25_000) + 2000;
        }
        t += r.exp(6 * 60_000);
      }
    } else if (role === 'mail') {
      // A mail server: per message DNSBL, SPF, DKIM, DMARC lookups; outbound MX lookups.
      for (let t = boot; t < end; t += r.exp(4000)) {
        const ipRev = `${r.int(1, 254)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 223)}`;
        lookup(t, `${ipRev}.zen.spamhaus.org`, [T.A], r.chance(0.9));
        lookup(t + 2, `${ipRev}.b.barracudacentral.org`, [T.A], r.chance(0.9));
        const sender = r.chance(0.5) ? r.zipf(catalog.sites).hosts[0]!.slice(4) : r.str(LOWER, r.int(5, 12)) + '.' + r.pick(TLDS);
        lookup(t + 5, sender, [T.TXT]);
        lookup(t + 8, `${r.pick(['s1', 'google', 'selector1', 'k1', 'default'])}._domainkey.${sender}`, [T.TXT]);
        lookup(t + 10, `_dmarc.${sender}`, [T.TXT], r.chance(0.3));
        if (r.chance(0.3)) lookup(t + 20, r.zipf(catalog.sites).hosts[0]!.slice(4), [T.MX]);
      }
    } else if (role === 'av') {
      // Endpoint protection asking a reputation service about file hashes, by DNS.
      for (let t = boot; t < end; t += r.exp(3000)) {
        lookup(t, `${r.str(HEX, 32)}.${r.int(0, 3)}.hashlookup.av-reputation.net`, [T.A], false);
      }
    } else {
      // Servers: package mirrors, APIs, SRV for directory services, regular refresh.
      for (let t = boot; t < end; t += r.exp(20_000)) {
        lookup(t, r.pick(['deb.debian.org', 'security.debian.org', 'api.github.com', 'registry.npmjs.org', 'sts.amazonaws.com', 's3.eu-west-1.amazonaws.com']), [T.A, T.AAAA]);
        if (r.chance(0.2)) lookup(t, '_ldap._tcp.dc._msdcs.corp.example', [T.SRV]);
      }
    }
  }

  // ---------------- attack episodes ----------------
  const episodes: Episode[] = [];
  const kinds = opts.kinds ?? (['iodine', 'dnscat2', 'exfiltration', 'water-torture', 'beacon', 'amplification'] as EpisodeKind[]);
  const perKind = opts.episodesPerKind ?? 8;
  let nextAttacker = 1;
  for (const kind of kinds) {
    for (let k = 0; k < perKind; k++) {
      const id = episodes.length;
      const attacker = `10.66.${Math.floor(nextAttacker / 250)}.${(nextAttacker % 250) + 1}`;
      nextAttacker++;
      const before = raw.length;
      const ep = generateEpisode(kind, id, attacker, r, start, end, emit);
      episodes.push({ ...ep, id, kind, expected: EPISODE_FINDING[kind], queries: raw.length - before });
    }
  }

  raw.sort((a, b) => a.time - b.time);
  return { start, end, events: raw, episodes, normalClients };
}

type Emit = (time: number, client: string, qname: string, qtype: number, rcode: number, bytesOut: number, episode?: number, transport?: string) => void;

function chunked(s: string, max = 63): string {
  const parts: string[] = [];
  for (let i = 0; i < s.length; i += max) parts.push(s.slice(i, i + max));
  return parts.join('.');
}

function generateEpisode(
  kind: EpisodeKind, id: number, attacker: string, r: Rng, start: number, end: number, emit: Emit,
): Omit<Episode, 'id' | 'kind' | 'expected' | 'queries'> {
  const tag = r.str(LOWER, 6);
  switch (kind) {
    case 'iodine': {
      // iodine: a short tunnel subdomain, base32/base64 upstream data in up to ~200-char names,
      // NULL (or TXT, or a private type) downstream; polls when idle.
      const domain = `${tag}-vpn.com`;
      const ttype = r.pick([T.NULL, T.NULL, T.TXT, T.PRIVATE]);
      const alphabet = r.chance(0.5) ? BASE32 : BASE64ISH;
      const duration = r.int(90, 300) * 1000;
      const t0 = start + r.int(2 * 60_000, 40 * 60_000);
      const qps = r.int(3, 30);
      for (let t = t0; t < t0 + duration; t += r.exp(1000 / qps)) {
        const busy = r.chance(0.6);
        const data = busy ? r.str(alphabet, r.int(60, 200)) : r.str(alphabet, r.int(5, 12));
        const qname = `${r.pick(['p', 'y', 'i'])}${chunked(data, 57)}.t.${domain}`;
        emit(t, attacker, qname, ttype, R.NOERROR, querySize(qname) + (busy ? r.int(200, 1100) : r.int(20, 80)), id);
      }
      return { clients: [attacker], domain, start: t0, end: t0 + duration, params: { qps, type: ttype, alphabet: alphabet === BASE32 ? 'base32' : 'base64' } };
    }
    case 'dnscat2': {
      // dnscat2: hex-encoded packets as the name (idle polls are short), TXT/CNAME/MX answers,
      // one poll a second by default.
      const domain = `${tag}-cdn.net`;
      const duration = r.int(120, 600) * 1000;
      const t0 = start + r.int(2 * 60_000, 35 * 60_000);
      const session = r.str(HEX, 4);
      for (let t = t0; t < t0 + duration; t += 1000 * (0.8 + 0.4 * r.next())) {
        const busy = r.chance(0.25);
        const payload = session + r.str(HEX, busy ? r.int(40, 200) : r.int(14, 26));
        const qname = `${chunked(payload, 63)}.${domain}`;
        const ty = r.pick([T.TXT, T.CNAME, T.MX]);
        emit(t, attacker, qname, ty, R.NOERROR, querySize(qname) + r.int(40, 250), id);
      }
      return { clients: [attacker], domain, start: t0, end: t0 + duration, params: { type: 'TXT/CNAME/MX' } };
    }
    case 'exfiltration': {
      // A burst of file contents encoded into A-record queries, sequence-numbered.
      const domain = `${tag}-stats.org`;
      const duration = r.int(10, 60) * 1000;
      const t0 = start + r.int(2 * 60_000, 42 * 60_000);
      const qps = r.int(10, 80);
      const alphabet = r.chance(0.5) ? HEX : BASE32;
      let seq = 0;
      for (let t = t0; t < t0 + duration; t += r.exp(1000 / qps)) {
        const qname = `${seq++}.${chunked(r.str(alphabet, r.int(50, 150)), 60)}.${domain}`;
        emit(t, attacker, qname, r.chance(0.8) ? T.A : T.AAAA, r.chance(0.7) ? R.NOERROR : R.NXDOMAIN, querySize(qname) + 16, id);
      }
      return { clients: [attacker], domain, start: t0, end: t0 + duration, params: { qps, alphabet: alphabet === HEX ? 'hex' : 'base32' } };
    }
    case 'water-torture': {
      // Random-subdomain flood from many (bot) clients; the victim's servers fail or say NXDOMAIN.
      const domain = `${tag}-victim.com`;
      const bots = r.int(1, 200);
      const clients: string[] = [];
      for (let b = 0; b < bots; b++) clients.push(`10.${200 + (id % 50)}.${Math.floor(b / 250)}.${(b % 250) + 1}`);
      const duration = r.int(60, 180) * 1000;
      const t0 = start + r.int(2 * 60_000, 40 * 60_000);
      const qps = r.int(20, 200);
      const style = r.pick(['mirai', 'short', 'www']);
      for (let t = t0; t < t0 + duration; t += r.exp(1000 / qps)) {
        const label = style === 'mirai' ? r.str(LOWER, 12) : style === 'short' ? r.str(ALNUM, r.int(6, 10)) : 'www.' + r.str(ALNUM, r.int(6, 16));
        const qname = label + '.' + domain;
        const rcode = r.chance(0.5) ? R.SERVFAIL : R.NXDOMAIN;
        emit(t, r.pick(clients), qname, T.A, rcode, querySize(qname) + 60, id);
      }
      return { clients, domain, start: t0, end: t0 + duration, params: { bots, qps, style } };
    }
    case 'beacon': {
      // C2 check-ins on a timer with jitter, each carrying a fresh encoded id, or polling TXT.
      const domain = `${tag}-update.com`;
      const interval = r.int(20, 120) * 1000;
      const jitter = r.int(0, 15) / 100;
      const checkins = r.int(12, 16);
      const t0 = start + r.int(60_000, Math.max(60_001, end - start - checkins * interval * 1.2 - 60_000));
      const mode = r.chance(0.5) ? 'fresh-name' : 'txt';
      let t = t0;
      for (let k = 0; k < checkins; k++) {
        const qname = mode === 'fresh-name' ? `${r.str(HEX, r.int(8, 16))}.${domain}` : `cmd.${domain}`;
        emit(t, attacker, qname, mode === 'txt' ? T.TXT : T.A, R.NOERROR, querySize(qname) + 40, id);
        t += interval * (1 - jitter + 2 * jitter * r.next());
      }
      return { clients: [attacker], domain, start: t0, end: t, params: { intervalSeconds: interval / 1000, jitter, checkins, mode } };
    }
    case 'amplification': {
      // Spoofed source (the victim): small ANY/DNSKEY/TXT queries, large answers over UDP.
      const victim = `198.51.100.${id % 250 + 1}`;
      const domain = `${tag}-signed.org`;
      const duration = r.int(30, 180) * 1000;
      const t0 = start + r.int(2 * 60_000, 40 * 60_000);
      const qps = r.int(10, 100);
      const ty = r.pick([T.ANY, T.DNSKEY, T.TXT]);
      for (let t = t0; t < t0 + duration; t += r.exp(1000 / qps)) {
        emit(t, victim, domain, ty, R.NOERROR, r.int(1800, 4000), id);
      }
      return { clients: [victim], domain, start: t0, end: t0 + duration, params: { qps, type: ty } };
    }
  }
}
