// Runs one parsed .rpl scenario against the Resolver with a scripted Upstream and a manual clock.
import type { Request } from '../../../src/transport/handler.js';
import { TrustAnchors } from '../../../src/dnssec/trust-anchors.js';
import { Resolver, type ForwardConfig, type ResolverOptions } from '../../../src/resolver/resolver.js';
import { ianaRootHints, rootHintsFromAddresses } from '../../../src/resolver/root-hints.js';
import { ResolverStep } from '../../../src/resolver/step.js';
import { ManualClock, UpstreamError, type QueryOptions, type ServerAddress, type Upstream } from '../../../src/resolver/types.js';
import {
  decodeEde, decodeMessage, EdnsOptionCode, makeMessage, Name, RRType, rdataText, typeToString, classToString,
  type Message, type ResourceRecord,
} from '../../../src/wire/index.js';
import type { RplEntry, RplStep, Scenario } from './parse.js';

export type Outcome = { status: 'pass' } | { status: 'fail'; reason: string } | { status: 'skip'; reason: string };

/** Config keys that change nothing we emulate (or only DNSSEC, which is reported separately). */
const IGNORED = new Set([
  'server', 'target-fetch-policy', 'val-override-timestamp', 'trust-anchor-signaling', 'fake-sha1', 'fake-dsa',
  'minimal-responses', 'rrset-roundrobin', 'iter-scrub-promiscuous', 'verbosity', 'log-servfail', 'ede', 'access-control',
  'harden-referral-path', 'harden-glue', 'harden-dnssec-stripped', 'harden-below-nxdomain', 'num-queries-per-thread',
  'outbound-msg-retry', 'max-global-quota', 'feature-list', 'features', 'stub-prime', 'stub-first', 'forward-first',
  'harden-unknown-additional', 'aggressive-nsec', 'private-address', 'do-ip4', 'logfile', 'use-syslog', 'module-config',
  'qname-minimisation-strict', 'prefetch-key', 'val-log-level', 'ede-serve-expired', 'serve-expired-ttl', 'serve-expired-reply-ttl',
  'serve-expired-client-timeout', 'serve-expired-ttl-reset', 'val-clean-additional', 'val-permissive-mode', 'infra-host-ttl',
  'do-not-query-localhost', 'so-reuseport', 'interface', 'port', 'do-udp', 'do-tcp', 'cache-max-negative-ttl', 'cache-min-ttl',
  'cache-max-ttl', 'stub-zone', 'forward-zone', 'name', 'stub-addr', 'forward-addr', 'stub-host', 'qname-minimisation',
  'query-minimization', 'do-ip6', 'prefetch', 'serve-expired', 'val-sig-skew-min', 'val-sig-skew-max',
]);
const UNSUPPORTED = new Set([
  'auth-zone', 'local-zone', 'local-data', 'local-data-ptr', 'dns64-prefix', 'dns64-synthall', 'rpz', 'edns-client-string',
  'edns-client-string-opcode', 'nsid', 'do-nat64', 'nat64-prefix', 'tcp-upstream', 'ssl-upstream', 'forward-tls-upstream',
  'stub-tls-upstream', 'send-client-subnet', 'client-subnet-zone', 'max-client-subnet-ipv4', 'python-script', 'ipsecmod-enabled',
  'cachedb', 'dnstap', 'view', 'respip', 'response-ip', 'ratelimit', 'ip-ratelimit', 'deny-any', 'unknown-server-time-limit',
  'wait-limit', 'fast-server-permil', 'root-key-sentinel', 'trust-anchor-file', 'auto-trust-anchor-file',
  'dlv-anchor', 'dlv-anchor-file', 'trusted-keys-file', 'zonefile', 'primary', 'master', 'url', 'for-downstream', 'for-upstream',
  'zonemd-check', 'zonemd-reject-absence', 'cache-max-negative-ttl-zero',
]);
const SUPPORTED_STEPS = new Set(['QUERY', 'CHECK_ANSWER', 'TIME_PASSES', 'NOTHING', 'CHECK_OUT_QUERY', 'REPLY', 'TIMEOUT', 'TRAFFIC']);

/** Maps the scenario's CONFIG to ResolverOptions, or says which option we do not support. */
export function configure(scn: Scenario): { opts: Partial<ResolverOptions>; hints: string[]; overrideDate?: number } | { needs: string } {
  const opts: Partial<ResolverOptions> = { qnameMinimisation: true, ipv6: true, prefetch: false, serveStale: false };
  const anchors: string[] = [];
  const insecure: string[] = [];
  let overrideDate: number | undefined;
  let sha1 = false;
  const cache: Record<string, number> = {};
  const forward: ForwardConfig[] = [];
  let hints: string[] = [];
  let clause: { kind: 'stub' | 'forward'; zone?: string; addrs: string[] } | undefined;
  const close = () => {
    if (!clause?.zone) return;
    const z = clause.zone.endsWith('.') ? clause.zone : clause.zone + '.';
    if (clause.kind === 'stub' && z === '.') hints = hints.concat(clause.addrs);
    else forward.push({ zone: z, to: clause.addrs.map((a) => a.replace(/@(\d+)$/, '@$1')), kind: clause.kind });
  };
  const yes = (v: string) => /^(yes|on|true|1)$/i.test(v);
  for (const [k, v] of scn.config) {
    if (UNSUPPORTED.has(k)) {
      if (k.startsWith('trust-anchor') || k.includes('trust-anchor') || k.startsWith('dlv') || k === 'trusted-keys-file') return { needs: 'DNSSEC validation (trust anchor configured)' };
      return { needs: k };
    }
    if (k === 'module-config' && /dns64|respip|subnetcache|ipsecmod|cachedb|python|dynlib/.test(v)) return { needs: `module-config: ${v}` };
    if (k === 'do-ip4' && !yes(v)) return { needs: 'do-ip4: no' };
    switch (k) {
      case 'stub-zone': close(); clause = { kind: 'stub', addrs: [] }; break;
      case 'forward-zone': close(); clause = { kind: 'forward', addrs: [] }; break;
      case 'name': if (clause) clause.zone = v; break;
      case 'stub-addr': case 'forward-addr':
        // Deckard writes a bare top-level stub-addr for the root servers.
        if (clause) clause.addrs.push(v.split(/\s+/)[0]!);
        else hints.push(v.split(/\s+/)[0]!);
        break;
      case 'minimal-responses': opts.minimalResponses = yes(v); break;
      case 'stub-host': case 'forward-host': return { needs: k };
      case 'qname-minimisation': case 'query-minimization': opts.qnameMinimisation = yes(v); break;
      case 'do-ip6': opts.ipv6 = yes(v); break;
      case 'prefetch': opts.prefetch = yes(v); break;
      case 'serve-expired': opts.serveStale = yes(v); break;
      case 'cache-max-ttl': cache.maxTtl = Number(v); break;
      case 'cache-min-ttl': cache.minTtl = Number(v); break;
      case 'cache-max-negative-ttl': cache.maxNegativeTtl = Number(v); break;
      case 'trust-anchor': anchors.push(v); break;
      case 'domain-insecure': insecure.push(v); break;
      case 'fake-sha1': sha1 = yes(v); break;
      case 'val-override-date': {
        const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/.exec(v);
        if (m) overrideDate = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
        else if (/^\d+$/.test(v) && v !== '0') overrideDate = Number(v);
        break;
      }
      default:
        if (!IGNORED.has(k)) { /* unknown keys are ignored, as harmless as possible */ }
    }
  }
  close();
  if (anchors.length > 0) {
    try {
      opts.trustAnchors = TrustAnchors.parse(anchors.join('\n'), `${scn.file} trust-anchor`);
    } catch (e) {
      return { needs: `trust anchor we cannot parse (${(e as Error).message})` };
    }
    opts.dnssec = 'validate';
    // Both reference validators accept RSA/SHA-1 (testbound's fake-sha1 only papers over crypto
    // libraries without it), so the scenarios run with our SHA-1 test switch on.
    opts.validation = { allowSha1: true };
    void sha1;
    opts.negativeTrustAnchors = insecure.map((n) => ({ name: n }));
  } else opts.dnssec = 'off';
  opts.cache = cache;
  opts.forward = forward;
  // Without hints testbound falls back to the built-in root servers; scenarios like that only
  // ask names under their stub or forward zones, so the IANA hints (never reached) stand in.
  if (hints.length === 0 && !forward.some((f) => f.zone === '.') && forward.length === 0) return { needs: 'root hints (no stub-zone for ".")' };
  return { opts, hints, overrideDate };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An upstream query waiting for the harness to answer it. */
export interface PendingQuery {
  server: ServerAddress;
  msg: Message;
  tcp: boolean;
  /** Kept back for a CHECK_OUT_QUERY, REPLY or TIMEOUT step instead of being answered from the ranges. */
  held: boolean;
  /** A CHECK_OUT_QUERY step has seen it. */
  checked: boolean;
  settle(r: Message | Error): void;
}

/**
 * The scripted network, as testbound models it: every upstream query waits in `pending`; the
 * harness answers it from the RANGE entries eligible at the current step, or keeps it back
 * when the next step checks it (CHECK_OUT_QUERY) or a later step answers it (REPLY) or times
 * it out (TIMEOUT). A query no range answers and no later step handles times out.
 */
export class ScriptedUpstream implements Upstream {
  step = 0;
  readonly sent: Array<{ server: ServerAddress; question: string; tcp: boolean }> = [];
  readonly pending: PendingQuery[] = [];
  /** Counts queries sent and answered, to tell when the resolver has gone quiet. */
  activity = 0;
  constructor(private readonly scn: Scenario) {}

  query(server: ServerAddress, msg: Message, opts: QueryOptions): Promise<Message> {
    const q = msg.question[0]!;
    this.sent.push({ server, question: `${q.name} ${typeToString(q.type)}`, tcp: opts.tcp });
    this.activity++;
    return new Promise<Message>((resolve, reject) => {
      this.pending.push({
        server, msg, tcp: opts.tcp, held: false, checked: false,
        settle: (r) => (r instanceof Error ? reject(r) : resolve(r)),
      });
    });
  }

  /** The range answer for a query at the current step: a message, a timeout, or undefined when no entry matches. */
  fromRanges(p: PendingQuery): Message | UpstreamError | undefined {
    const q = p.msg.question[0]!;
    for (const r of this.scn.ranges) {
      if (this.step < r.start || this.step > r.end) continue;
      if (r.addresses.length > 0 && !r.addresses.includes(p.server.address)) continue;
      for (const e of r.entries) {
        if (!queryMatches(e, p.msg, p.tcp)) continue;
        if (e.adjust.includes('do_not_answer')) return new UpstreamError('timeout', 'scripted: do_not_answer');
        try {
          return buildReply(e, p.msg);
        } catch (err) {
          return err as UpstreamError;
        }
      }
    }
    void q;
    return undefined;
  }

  answer(p: PendingQuery, r: Message | Error): void {
    const i = this.pending.indexOf(p);
    if (i >= 0) this.pending.splice(i, 1);
    this.activity++;
    p.settle(r);
  }
}

function queryMatches(e: RplEntry, msg: Message, tcp: boolean): boolean {
  const q = msg.question[0]!;
  const eq = e.question[0];
  for (const m of e.match) {
    switch (m) {
      case 'opcode': if (msg.opcode !== e.opcode) return false; break;
      case 'qtype': if (eq && q.type !== eq.type) return false; break;
      case 'qname': if (eq && !q.name.equals(eq.name)) return false; break;
      case 'question': if (eq && (q.type !== eq.type || !q.name.equals(eq.name))) return false; break;
      case 'subdomain': if (eq && !q.name.isSubdomainOf(eq.name)) return false; break;
      case 'TCP': if (!tcp) return false; break;
      case 'UDP': if (tcp) return false; break;
      case 'DO': if (!msg.edns?.do) return false; break;
      case 'noedns': if (msg.edns) return false; break;
      default: break;
    }
  }
  return true;
}

function buildReply(e: RplEntry, query: Message): Message {
  const copyId = e.adjust.includes('copy_id') || e.adjust.includes('raw_id');
  if (e.raw) {
    const bytes = new Uint8Array(e.raw);
    if (copyId && bytes.length >= 2) {
      bytes[0] = query.id >> 8;
      bytes[1] = query.id & 0xff;
    }
    try {
      return decodeMessage(bytes);
    } catch (err) {
      throw new UpstreamError('malformed', `scripted raw answer: ${(err as Error).message}`);
    }
  }
  const f = e.flags;
  // Deckard's copy_id copies the query name too; copy_query copies the whole question.
  const question = copyId || e.adjust.includes('copy_query') || e.question.length === 0 ? query.question : e.question;
  return makeMessage({
    id: copyId ? query.id : 0, qr: f.has('QR'), aa: f.has('AA'), tc: f.has('TC'), rd: f.has('RD'), ra: f.has('RA'),
    ad: f.has('AD'), cd: f.has('CD'), opcode: e.opcode, rcode: e.rcode, question,
    answer: e.answer, authority: e.authority, additional: e.additional,
    edns: f.has('DO') ? { udpSize: 4096, version: 0, do: true, z: 0, options: [] } : undefined,
  });
}

function rrKey(r: ResourceRecord, ttl: boolean): string {
  let data: string;
  try {
    data = r.data instanceof Uint8Array ? new TextDecoder().decode(r.data) : rdataText(r);
  } catch {
    data = '?';
  }
  return `${r.name.key} ${ttl ? r.ttl : ''} ${classToString(r.class)} ${typeToString(r.type)} ${data.toLowerCase().replace(/\s+/g, ' ')}`;
}

function sectionDiff(name: string, got: ResourceRecord[], want: ResourceRecord[], ttl: boolean): string | undefined {
  const g = got.filter((r) => r.type !== RRType.OPT).map((r) => rrKey(r, ttl)).sort();
  const w = want.map((r) => rrKey(r, ttl)).sort();
  if (g.length === w.length && g.every((x, i) => x === w[i])) return undefined;
  const missing = w.filter((x) => !g.includes(x));
  const extra = g.filter((x) => !w.includes(x));
  return `${name}: missing [${missing.join(' | ')}] extra [${extra.join(' | ')}]`;
}

const FLAG_NAMES = ['QR', 'AA', 'TC', 'RD', 'RA', 'AD', 'CD'] as const;
function flagsOf(m: Message): string {
  return FLAG_NAMES.filter((f) => m[f.toLowerCase() as 'qr']).join(' ');
}

/** Compares a received answer with a CHECK_ANSWER entry; undefined when it matches. */
export function checkAnswer(e: RplEntry, got: Message): string | undefined {
  const m = new Set(e.match.flatMap((x) => (x === 'all' ? ['opcode', 'question', 'flags', 'rcode', 'answer', 'authority', 'additional'] : [x])));
  const ttl = m.has('ttl');
  const eq = e.question[0];
  const gq = got.question[0];
  if ((m.has('qname') || m.has('question')) && eq && (!gq || !gq.name.equals(eq.name))) return `qname ${gq?.name} != ${eq.name}`;
  if ((m.has('qtype') || m.has('question')) && eq && gq?.type !== eq.type) return `qtype ${gq?.type} != ${eq.type}`;
  if (m.has('opcode') && got.opcode !== e.opcode) return `opcode ${got.opcode} != ${e.opcode}`;
  if (m.has('rcode') && got.rcode !== e.rcode) return `rcode ${got.rcode} != ${e.rcode}`;
  if (m.has('flags')) {
    const want = FLAG_NAMES.filter((f) => e.flags.has(f)).join(' ');
    if (flagsOf(got) !== want) return `flags "${flagsOf(got)}" != "${want}"`;
  }
  for (const x of m) {
    const ede = /^ede=(\w+)$/.exec(x);
    if (!ede) continue;
    const opt = got.edns?.options.find((o) => o.code === EdnsOptionCode.EDE);
    if (!opt) return 'no EDE option';
    if (ede[1] !== 'any' && decodeEde(opt).infoCode !== Number(ede[1])) return `EDE ${decodeEde(opt).infoCode} != ${ede[1]}`;
  }
  return (m.has('answer') ? sectionDiff('answer', got.answer, e.answer, ttl) : undefined)
    ?? (m.has('authority') ? sectionDiff('authority', got.authority, e.authority, ttl) : undefined)
    ?? (m.has('additional') ? sectionDiff('additional', got.additional, e.additional, ttl) : undefined);
}

/**
 * Lets the resolver run until it goes quiet: pending upstream queries are answered from the
 * ranges (or kept back for the steps that handle them), background work (prefetch) finishes.
 * Bounded in rounds; virtual time does not move.
 */
async function settle(upstream: ScriptedUpstream, upcoming: RplStep | undefined, laterHandles: boolean, progress: () => number): Promise<void> {
  let last = -1;
  for (let idle = 0, rounds = 0; idle < 3 && rounds < 20_000; rounds++) {
    await new Promise((r) => setImmediate(r));
    for (const p of [...upstream.pending]) {
      if (p.held) continue;
      if (upcoming?.type === 'CHECK_OUT_QUERY' && upcoming.entry && !p.checked && queryMatches(upcoming.entry, p.msg, p.tcp)) {
        p.held = true; // the next step looks at it before it is answered
        continue;
      }
      const r = upstream.fromRanges(p);
      if (r === undefined && laterHandles) {
        p.held = true; // a later REPLY or TIMEOUT step deals with it
        continue;
      }
      upstream.answer(p, r ?? new UpstreamError('timeout', `no scripted answer at ${p.server.address} for ${p.msg.question[0]!.name} ${typeToString(p.msg.question[0]!.type)}`));
    }
    const now = upstream.activity + progress();
    if (now !== last) {
      last = now;
      idle = 0;
    } else idle++;
  }
}

/** Runs a scenario: pass, fail with the first difference, or skip with what it needs. */
export async function runScenario(scn: Scenario): Promise<Outcome> {
  const unsupportedStep = scn.steps.find((s) => !SUPPORTED_STEPS.has(s.type));
  if (unsupportedStep) return { status: 'skip', reason: `needs STEP ${unsupportedStep.type}` };
  const cfg = configure(scn);
  if ('needs' in cfg) return { status: 'skip', reason: `needs ${cfg.needs}` };
  const clock = new ManualClock();
  const start = clock.now();
  const override = cfg.overrideDate;
  const upstream = new ScriptedUpstream(scn);
  const resolver = new Resolver({
    ...cfg.opts,
    rootHints: cfg.hints.length > 0 ? rootHintsFromAddresses(cfg.hints) : ianaRootHints,
    upstream,
    clock,
    caseRandomisation: false,
    random: mulberry32(1),
    // Deckard's scenarios were written against Knot Resolver, which minimises with NS queries.
    minimisedType: scn.file.includes('deckard') ? 'NS' : 'A',
    // The client timer runs on real time; scenarios run on virtual time.
    staleClientTimeout: 0,
    // val-override-date fixes the validator's idea of now; virtual time moves it on.
    ...(override !== undefined ? { validationTime: () => Math.floor(override + (clock.now() - start) / 1000) } : {}),
  });
  const step = new ResolverStep(resolver, { allow: () => true });
  const answers: Message[] = [];
  let answered = 0;
  const steps = [...scn.steps].sort((a, b) => a.id - b.id);
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    upstream.step = s.id;
    if (s.type === 'TIME_PASSES') {
      const secs = Number(s.args[s.args[0] === 'ELAPSE' ? 1 : 0]);
      if (!Number.isFinite(secs)) return { status: 'skip', reason: `needs TIME_PASSES ${s.args.join(' ')}` };
      clock.advance(secs * 1000);
    } else if (s.type === 'QUERY') {
      const e = s.entry;
      if (!e || e.question.length === 0) return { status: 'skip', reason: `needs raw QUERY (step ${s.id})` };
      const msg = makeMessage({
        id: 4242, rd: e.flags.has('RD'), cd: e.flags.has('CD'), question: e.question,
        edns: { udpSize: 4096, version: 0, do: e.flags.has('DO'), z: 0, options: [] },
      });
      const req: Request = {
        message: msg, raw: new Uint8Array(0), client: { address: s.args[1] ?? '127.0.0.1', port: 5000, family: 4 },
        local: { address: '127.0.0.1', port: 53, family: 4 }, transport: 'udp', listener: '127.0.0.1:53', receivedAt: 0n, state: {},
      };
      void step.handle(req, async () => ({ drop: true })).then((reply) => {
        answered++;
        if (reply.message) answers.push(reply.message);
      });
    } else if (s.type === 'CHECK_ANSWER') {
      const got = answers.shift();
      if (!got) return { status: 'fail', reason: `step ${s.id}: no answer to check${upstream.pending.length > 0 ? ` (waiting on ${upstream.pending.map((p) => p.msg.question[0]!.name + ' ' + typeToString(p.msg.question[0]!.type)).join(', ')})` : ''}` };
      if (s.entry) {
        const diff = checkAnswer(s.entry, got);
        if (diff) return { status: 'fail', reason: `step ${s.id}: ${diff}` };
      }
    } else if (s.type === 'CHECK_OUT_QUERY') {
      const p = s.entry ? upstream.pending.find((x) => x.held && !x.checked && queryMatches(s.entry!, x.msg, x.tcp)) : undefined;
      if (!p) {
        const waiting = upstream.pending.map((x) => `${x.msg.question[0]!.name} ${typeToString(x.msg.question[0]!.type)}`).join(', ');
        return { status: 'fail', reason: `step ${s.id}: no outgoing query matches (${waiting || 'none pending'})` };
      }
      p.checked = true;
      p.held = false; // answered from the ranges if they can, else kept for REPLY/TIMEOUT
    } else if (s.type === 'REPLY' || s.type === 'TIMEOUT') {
      const e = s.entry;
      const p = upstream.pending.find((x) => e && e.question.length > 0 ? queryMatches({ ...e, match: e.match.filter((m) => m === 'qname' || m === 'qtype' || m === 'question') }, x.msg, x.tcp) : true)
        ?? upstream.pending[0];
      if (p) upstream.answer(p, s.type === 'TIMEOUT' || !e ? new UpstreamError('timeout', `scripted: TIMEOUT step ${s.id}`) : buildReply(e, p.msg));
    }
    const next = steps[i + 1];
    const laterHandles = steps.slice(i + 1).some((x) => x.type === 'REPLY' || x.type === 'TIMEOUT');
    await settle(upstream, next, laterHandles, () => answered);
  }
  return { status: 'pass' };
}

export { Name };
