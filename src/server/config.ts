// The YAML config file: one zod schema is the single source for validation, defaults and
// docs/config.md (scripts/gen-config-doc.ts walks it). Keys are kebab-case; unknown keys are errors.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isIP } from 'node:net';
import { isMap, isSeq, isPair, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { Name } from '../wire/index.js';
import { parseListenAddress } from '../transport/address.js';
import { dnssecZoneSchema } from '../dnssec/signer-config.js';
import { detectionSchema, monitorSchema, queryLogSchema } from '../monitor/config.js';
import { dnstapSchema } from '../monitor/dnstap.js';

const NOT_ACTIVE = '(accepted and validated; not yet active)';

// ---- field helpers ----

const listenEntry = z.string().superRefine((s, ctx) => {
  try {
    parseListenAddress(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `bad listen address "${s}": ${(e as Error).message}` });
  }
});

const hostPort = z.string().superRefine((s, ctx) => {
  try {
    const a = parseListenAddress(s);
    if (a.scheme !== 'dns') throw new Error('a plain address is expected here');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `bad address "${s}": ${(e as Error).message}` });
  }
});

const domainName = z.string().min(1).superRefine((s, ctx) => {
  try {
    Name.parse(s.endsWith('.') ? s : s + '.');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `bad domain name "${s}": ${(e as Error).message}` });
  }
});

const cidrRe = /^(.+?)(?:\/([0-9]{1,3}))?$/;
/** List names every config knows (src/policy/acl.ts). */
const BUILTIN_ACLS = new Set(['any', 'none', 'localhost', 'loopback', 'localnets']);

/** An ACL entry: CIDR, address, `key NAME`, `!ENTRY`, another list's name, `any`, `none`. */
const aclEntry = z.string().min(1).superRefine((s, ctx) => {
  const body = s.startsWith('!') ? s.slice(1).trim() : s;
  if (/^key\s+\S+$/.test(body) || /^[a-z][a-z0-9_-]*$/i.test(body)) return; // key or list name (checked later)
  const m = cidrRe.exec(body);
  const fam = m ? isIP(m[1]!) : 0;
  if (!m || fam === 0 || (m[2] !== undefined && Number(m[2]) > (fam === 4 ? 32 : 128)))
    ctx.addIssue({ code: 'custom', message: `bad ACL entry "${s}" (CIDR, address, "key NAME", "!ENTRY", list name, any, none)` });
});
const aclList = z.array(aclEntry);

const seconds = (desc: string, def: number) => z.number().positive().max(86400).default(def).describe(desc);
const count = (desc: string, def: number, max = 1_000_000) => z.number().int().min(1).max(max).default(def).describe(desc);

/** A remote server for transfers and NOTIFY: `ADDRESS[:PORT] [key NAME]`. */
const remoteEntry = z.string().superRefine((s, ctx) => {
  const m = /^\s*(\S+)(?:\s+key\s+(\S+))?\s*$/.exec(s);
  try {
    if (!m) throw new Error('expected "ADDRESS[:PORT] [key NAME]"');
    const a = parseListenAddress(m[1]!);
    if (a.scheme !== 'dns' || !isIP(a.host)) throw new Error('an IP address is expected here');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `bad remote "${s}": ${(e as Error).message}` });
  }
});

/** An address of this host to send from (`notify-source`, `transfer-source`). */
const sourceAddress = z.string().refine((s) => isIP(s) !== 0, { message: 'an IP address of this host is expected here' });

// ---- sections ----

const zoneSchema = z
  .strictObject({
    name: domainName.describe('Zone origin, e.g. `example.test`.'),
    file: z.string().min(1).optional().describe('Zone file (primary: read from it; secondary: kept in it). Relative to the config file.'),
    primaries: z
      .array(remoteEntry)
      .optional()
      .describe('Secondary zone: the primaries to pull it from, in order, as `"ADDRESS[:PORT] [key NAME]"` (e.g. `"192.0.2.1:53 key xfr-key"`): SOA checks, IXFR with AXFR fallback, signed with the key; NOTIFY accepted only from these addresses. The copy is kept in `file` (plus `FILE.jnl` and `FILE.state`), served at once after a restart, and no longer served after the SOA expire time without a primary. See docs/xfr.md.'),
    'allow-transfer': aclList
      .optional()
      .describe('Who may AXFR/IXFR this zone (ACL entries; a bare key name means `key NAME`; default none). IXFR is served from the journal `FILE.jnl`. See docs/xfr.md.'),
    notify: z
      .array(remoteEntry)
      .optional()
      .describe('Where to send NOTIFY on every change, as `"ADDRESS[:PORT] [key NAME]"` (port 53 by default); with `allow-transfer` set, the in-zone addresses of the zone\'s NS (not the SOA MNAME) are notified too.'),
    'notify-source': sourceAddress.optional().describe('Our address for the NOTIFY messages of this zone (BIND\'s `notify-source`), used for targets of its family (IPv4 or IPv6); a secondary that accepts NOTIFY only from its primary\'s address checks it. Default: the address the system picks for the target (on one host, 127.0.0.1 for a loopback target).'),
    'transfer-source': sourceAddress.optional().describe('Secondary zone: our address for the SOA checks and transfers from `primaries` of its family (BIND\'s `transfer-source`), for a primary that allows transfers by address. Default: the address the system picks.'),
    'allow-update': aclList
      .optional()
      .describe('Who may send dynamic updates (RFC 2136; ACL entries, e.g. `key xfr-key`; default none). An update is answered once written to `FILE.jnl` and flushed to disk; the zone file is rewritten from memory every minute and on shutdown.'),
    'allow-query': aclList.optional().describe('Who may query this zone (ACL entries). Absent: the global `allow-query` (default any).'),
    dnssec: dnssecZoneSchema.optional(),
    catalog: z
      .enum(['produce', 'consume'])
      .optional()
      .describe('Catalog zone (RFC 9432). `produce`: this zone is generated (no `file`) and lists the zones that name it in `catalog-zone`; serve it with `allow-transfer`/`notify`. `consume` (with `primaries`): a secondary whose member zones are added and removed as the catalog lists them, pulled from the same primaries. See docs/xfr.md.'),
    'catalog-zone': domainName.optional().describe('The produced catalog zone (`catalog: produce`) that lists this zone.'),
    'catalog-directory': z.string().min(1).optional().describe('`catalog: consume`: folder for the member zone copies (`<zone>.zone`). Default: the folder of `file`. Relative to the config file.'),
  })
  .superRefine((zc, ctx) => {
    if (!zc.primaries && !zc.file && zc.catalog !== 'produce') ctx.addIssue({ code: 'custom', message: 'a primary zone needs "file"', path: [] });
    if (zc.catalog === 'consume' && !zc.primaries) ctx.addIssue({ code: 'custom', message: '"catalog: consume" needs "primaries" (the catalog is pulled like a secondary zone)', path: ['catalog'] });
    if (zc['transfer-source'] !== undefined && !zc.primaries) ctx.addIssue({ code: 'custom', message: '"transfer-source" is for a secondary zone (one with "primaries")', path: ['transfer-source'] });
    if (zc.catalog === 'produce' && zc.primaries) ctx.addIssue({ code: 'custom', message: '"catalog: produce" is generated here; it cannot have "primaries"', path: ['catalog'] });
  })
  .describe('One zone. A zone with `file` and no `primaries` is a primary, served from its file.');

const identitySchema = z
  .strictObject({
    version: z.string().optional().describe('Answer to CH TXT `version.bind`/`version.server`. Absent: REFUSED.'),
    hostname: z.string().optional().describe('Answer to CH TXT `hostname.bind`. Absent: REFUSED.'),
    'server-id': z.string().optional().describe('Answer to CH TXT `id.server`. Absent: REFUSED.'),
  })
  .default({})
  .describe('What the server tells about itself. Everything is hidden by default.');

const ednsSchema = z
  .strictObject({
    'udp-size': z
      .number()
      .int()
      .min(512)
      .max(4096)
      .default(1232)
      .describe('Our UDP payload size (RFC 6891); a reply is at most min(client, ours). 1232 avoids IP fragmentation.'),
  })
  .default({ 'udp-size': 1232 })
  .describe('EDNS(0).');

const tcpSchema = z
  .strictObject({
    'idle-timeout': seconds('Close a connection with no query in flight after this many seconds of silence (RFC 7766 §6.2.3).', 10),
    'message-timeout': seconds('Close a connection that takes longer than this many seconds to send one whole message (slowloris).', 5),
    'max-connections': count('Open connections in total, per listener and worker; more are closed at once.', 1000),
    'max-connections-per-client': count('Open connections per client address, per listener and worker.', 20),
    'max-pipelined': count('Queries in flight per connection; reading pauses above it (backpressure).', 100, 65535),
  })
  .default({ 'idle-timeout': 10, 'message-timeout': 5, 'max-connections': 1000, 'max-connections-per-client': 20, 'max-pipelined': 100 })
  .describe('DNS over TCP (RFC 7766).');

const keySchema = z.strictObject({
  algorithm: z
    .enum(['hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'])
    .describe('TSIG algorithm.'),
  secret: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'secret must be base64')
    .describe('Shared secret, base64.'),
});

const forwardList = (desc: string) =>
  z
    .array(
      z.strictObject({
        zone: domainName.describe('Names at or below this zone are sent to `to`.'),
        to: z.array(z.string().min(1)).min(1).describe('Servers: `192.0.2.1`, `192.0.2.1@5353`, `192.0.2.1:5353`, `[2001:db8::1]:5353`.'),
      }),
    )
    .optional()
    .describe(desc);

const resolverSchema = z
  .strictObject({
    allow: aclList.optional().describe('Who may recurse (ACL entries). Absent: loopback only; `[]`: no recursion.'),
    'open-resolver': z
      .boolean()
      .default(false)
      .describe('Allow recursion for `any` or public prefixes on a non-loopback listener. Without it `serve` refuses such a config: an open resolver is abused for amplification attacks and cache poisoning.'),
    'root-hints': z.string().optional().describe('Root hints file. Absent: the built-in IANA root hints.'),
    'query-port': z.number().int().min(1).max(65535).default(53).describe('Destination port of outgoing queries (tests use a high port).'),
    forward: forwardList('Forward zones: recursive servers asked with RD=1 instead of iterating.'),
    stub: forwardList('Stub zones: authoritative servers for the zone, iterated from there.'),
    'qname-minimisation': z.boolean().default(true).describe('RFC 9156 QNAME minimisation (relaxed).'),
    'case-randomisation': z.boolean().default(true).describe('0x20: random case in outgoing query names, checked in answers.'),
    ipv6: z.boolean().default(true).describe('Use IPv6 addresses of name servers.'),
    cache: z
      .strictObject({
        'max-ttl': z.number().int().min(0).optional().describe('TTL cap in seconds (default 86400).'),
        'min-ttl': z.number().int().min(0).optional().describe('TTL floor in seconds (default 0).'),
        'max-negative-ttl': z.number().int().min(0).optional().describe('Negative TTL cap in seconds (default 3600).'),
        'max-size': z.number().int().min(65536).optional().describe('Cache size in estimated bytes (default 64 MiB).'),
        'serve-stale': z.boolean().optional().describe('RFC 8767 serve-stale when upstreams fail (default true).'),
        prefetch: z.boolean().optional().describe('Refresh popular entries before they expire (default true).'),
        'bogus-ttl': z.number().int().min(0).optional().describe('Seconds bogus answers are remembered (default 60).'),
        'stale-client-timeout': z.number().int().min(0).optional().describe('RFC 8767: milliseconds after which an expired cached answer is sent while the resolution goes on (default 1800).'),
      })
      .optional()
      .describe('Resolver cache.'),
    limits: z
      .strictObject({
        'max-queries': z.number().int().min(1).optional().describe('Upstream queries per client question (64).'),
        'max-ns-names': z.number().int().min(1).optional().describe('NS names resolved per client question (12).'),
        'max-cname-chain': z.number().int().min(1).optional().describe('CNAME/DNAME links followed (12).'),
        'max-depth': z.number().int().min(1).optional().describe('Nesting of sub-resolutions (6).'),
        'max-keys-per-tag': z.number().int().min(1).optional().describe('DNSKEYs tried per RRSIG key tag (4).'),
        'max-signatures': z.number().int().min(1).optional().describe('RRSIGs tried per RRset (8).'),
        'max-validations': z.number().int().min(1).optional().describe('Signature checks per client question (128).'),
        'max-nsec3-iterations': z.number().int().min(0).optional().describe('NSEC3 iterations above which answers are insecure (150).'),
      })
      .optional()
      .describe('Work limits per client question (NXNS, KeyTrap).'),
    'prime-root': z.boolean().optional().describe('RFC 8109 priming: ask the root NS set before iterating from the hints (default true).'),
    'aggressive-nsec': z.boolean().optional().describe('RFC 8198: answer NXDOMAIN/NODATA from validated cached NSEC/NSEC3 (default true).'),
    'nxdomain-cut': z.boolean().optional().describe('RFC 8020: a cached NXDOMAIN also answers every name below it (default true).'),
    dnssec: z.enum(['validate', 'off']).default('validate').describe('DNSSEC validation.'),
    'trust-anchors': z.string().optional().describe('DS or DNSKEY records in zone-file syntax. Absent: the root\'s.'),
    'negative-trust-anchors': z
      .array(z.strictObject({ name: domainName, until: z.union([z.string(), z.number()]).optional() }))
      .optional()
      .describe('RFC 7646: no validation at or below `name` until `until` (ISO 8601 time or epoch seconds).'),
  })
  .describe('Recursive resolver for the clients in `allow`. Without this section the server is authoritative only: names outside our zones get REFUSED.');

const viewSchema = z.strictObject({
  name: z.string().min(1).describe('View name (label `view` in metrics and logs).'),
  clients: aclList.describe('Who sees this view (ACL entries: addresses, prefixes, lists, `key NAME`).'),
  destinations: aclList.optional().describe('Only queries to these local addresses (ACL entries). Absent: any.'),
  keys: z.array(z.string().min(1)).optional().describe('Only queries signed with one of these TSIG keys.'),
  zones: z
    .array(z.union([domainName, zoneSchema]))
    .default([])
    .describe('Zones of this view: the name of a zone from `zones:`, or a full zone entry (the same name may have another file in another view).'),
  recursion: aclList.optional().describe('Who in this view may recurse. Absent: `resolver.allow`; `[]`: nobody.'),
});

const rateCount = (desc: string) => z.number().int().min(0).optional().describe(desc);
const rateLimitSchema = z
  .strictObject({
    'responses-per-second': z.number().int().min(0).default(20).describe('Identical answers per second per client prefix (0: unlimited).'),
    'nxdomains-per-second': rateCount('NXDOMAIN answers per second per client prefix and zone (default: responses-per-second).'),
    'nodata-per-second': rateCount('NODATA answers per second per client prefix and zone (default: responses-per-second).'),
    'referrals-per-second': rateCount('Referrals per second per client prefix and delegation (default: responses-per-second).'),
    'errors-per-second': rateCount('Error answers (REFUSED, SERVFAIL, ...) per second per client prefix (default: responses-per-second).'),
    slip: z.number().int().min(0).max(10).default(2).describe('Every Nth limited response is sent truncated (TC) instead of dropped (0: never).'),
    window: z.number().int().min(1).max(3600).default(15).describe('Seconds an idle bucket is remembered.'),
    'ipv4-prefix-length': z.number().int().min(8).max(32).default(24).describe('Clients are accounted per IPv4 prefix of this length.'),
    'ipv6-prefix-length': z.number().int().min(16).max(128).default(56).describe('Clients are accounted per IPv6 prefix of this length.'),
    exempt: aclList.optional().describe('Clients never limited (ACL entries).'),
    'log-only': z.boolean().default(false).describe('Count what would be limited, limit nothing.'),
    'max-buckets': z.number().int().min(1000).max(10_000_000).default(200_000).describe('Bucket table cap; least recently used go first.'),
  })
  .describe('Response rate limiting (RRL) for UDP. TCP and clients with a valid DNS cookie are never limited.');

const cookiesSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Answer DNS cookies (RFC 7873, RFC 9018 server cookies).'),
    secret: z
      .string()
      .regex(/^[0-9a-fA-F]{32}$/, 'secret must be 32 hex digits (16 bytes)')
      .optional()
      .describe('Server secret, 32 hex digits; share it across an anycast group. Absent: random per start.'),
    'secret-file': z.string().optional().describe('File holding the secret (32 hex digits); read at start and reload.'),
    'previous-secret': z
      .string()
      .regex(/^[0-9a-fA-F]{32}$/, 'previous-secret must be 32 hex digits (16 bytes)')
      .optional()
      .describe('The secret before a rollover, still accepted (RFC 9018 §4.4).'),
  })
  .default({ enabled: true })
  .describe('DNS cookies. On by default with a random secret per start.');

const controlSchema = z
  .strictObject({
    listen: hostPort.default('127.0.0.1:8053').describe('Address of the HTTP control API, /metrics and dashboard. A non-loopback address needs a token.'),
    token: z.string().optional().describe('Bearer token required by the control API.'),
    'token-file': z.string().optional().describe('File holding the bearer token.'),
  })
  .describe('Control API, Prometheus /metrics and dashboard. Absent: not started.');

const logSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info').describe('Lowest level written.'),
  })
  .default({ level: 'info' })
  .describe('Logging: JSON lines on stderr (readable text when stderr is a terminal).');

// ---- the monitor's sections, embedded with descriptions for docs/config.md ----

/**
 * The same object schema with a description on each named key (strictness, defaults and
 * refinements kept): the monitor's schemas carry none, and docs/config.md is generated from
 * this file. A nested `{ '': 'text', key: 'text' }` describes an object key and its own keys.
 */
interface KeyDocs {
  [key: string]: string | KeyDocs;
}
function describeKeys<T extends z.ZodObject>(schema: T, docs: KeyDocs): T {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, d] of Object.entries(docs)) {
    const field = (schema.shape as Record<string, z.ZodType>)[k];
    if (!field) throw new Error(`describeKeys: no key "${k}"`);
    if (typeof d === 'string') {
      shape[k] = field.describe(d);
      continue;
    }
    // An object under a default: describe its keys, keep the default.
    const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodObject) : (field as unknown as z.ZodObject);
    const { '': self, ...rest } = d;
    let described: z.ZodType = describeKeys(inner, rest);
    if (field instanceof z.ZodDefault) described = (described as z.ZodObject).default(field.def.defaultValue as never);
    shape[k] = typeof self === 'string' ? described.describe(self) : described;
  }
  return schema.safeExtend(shape) as unknown as T;
}

const perFindingDocs = (what: (f: string) => string): KeyDocs =>
  Object.fromEntries(['tunneling', 'exfiltration', 'random-subdomain', 'beaconing', 'amplification'].map((f) => [f, what(f)]));

const monitorSection = describeKeys(monitorSchema, {
  'client-privacy': 'How client addresses appear in the query log, alerts and the API: `full`, `truncate` (IPv4 /24, IPv6 /48) or `hash` (keyed HMAC-SHA-256).',
  'hash-key': 'Key for `hash` privacy (at least 8 characters). Absent: random per process, so hashes change on restart.',
  top: 'How many top clients and names `/api/stats` and the dashboard list.',
});

const queryLogSection = describeKeys(queryLogSchema, {
  mode: '`on` (every query), `sampled` (every `1/sample-rate`-th query, exactly) or `off`; `true`/`false` mean on/off. One JSON line per logged query (`"msg":"query"`). Default off.',
  'sample-rate': 'Share of queries logged when `sampled`.',
  'client-privacy': 'Overrides `monitor.client-privacy` for the query log only.',
});

const detectionSection = describeKeys(detectionSchema, {
  enabled: 'Score traffic for tunneling, exfiltration, random-subdomain floods, beaconing and amplification.',
  window: 'Seconds of history each score looks at.',
  thresholds: { '': 'Score (0–1) from which a finding is raised, per finding type (defaults in docs/monitoring.md).', ...perFindingDocs((f) => `Threshold for ${f}.`) },
  actions: { '': 'What a finding does, per finding type: `alert` (log, metric, API; the default), `throttle` or `block` (REFUSED with an Extended DNS Error).', ...perFindingDocs((f) => `Action for ${f}.`) },
  'action-duration': 'Seconds a throttle or block lasts after the last finding.',
  'throttle-rate': 'Queries per second still answered for a throttled client or domain.',
  allow: 'Never scored: domain names (the name and below), addresses or prefixes. Still counted and logged.',
  'max-tracked': 'Cap on tracked clients, domains and (client, domain) pairs, so a flood of new sources cannot grow memory without bound.',
});

const dnstapSection = describeKeys(dnstapSchema, {
  socket: 'Unix socket of a Frame Streams reader (bidirectional handshake), e.g. `fstrm_capture -u`. Exactly one of `socket`, `tcp`, `file`.',
  tcp: '`ADDRESS:PORT` of a Frame Streams reader over TCP.',
  file: 'File written one-way (truncated when opened; `dnstap-read FILE` reads it). Relative to the config file. Not with `workers` > 1 (each worker has its own output).',
  identity: 'Sent as the dnstap `identity` field. Absent: not sent.',
  version: 'Sent as the dnstap `version` field. Absent: `portcullis`.',
  'client-queries': 'CLIENT_QUERY: every query as it arrives.',
  'client-responses': 'CLIENT_RESPONSE: every response, the bytes sent.',
  'resolver-queries': 'RESOLVER_QUERY: queries the resolver sends upstream.',
  'resolver-responses': 'RESOLVER_RESPONSE: answers the resolver receives.',
  'auth-queries': 'AUTH_QUERY: queries answered from our zones (answers with AA set).',
  'auth-responses': 'AUTH_RESPONSE: our authoritative answers (AA set).',
  'queue-size': 'Frames held while the reader is slow or away; more are dropped and counted (`portcullis_dnstap_frames_total{outcome="dropped"}`).',
});

export const configSchema = z
  .strictObject({
    listen: z
      .array(listenEntry)
      .min(1)
      .default(['127.0.0.1:53', '[::1]:53'])
      .describe('Addresses to serve on. Each plain `ADDRESS[:PORT]` serves UDP and TCP (port 53 by default); IPv6 in brackets. `tls://` and `https://` are reserved for DoT/DoH (not yet active).'),
    user: z.string().min(1).optional().describe('When started as root: switch to this user (and its group) after binding.'),
    workers: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('Processes serving the same addresses (node:cluster). The primary opens the sockets and keeps them across worker restarts. UDP: one SO_REUSEPORT socket per worker (with the batched-UDP addon; the kernel spreads queries over them), else one socket all workers read. TCP connections are accepted by the primary and handed out round-robin.'),
    log: logSchema,
    acl: z
      .record(z.string().regex(/^[a-z][a-z0-9_-]*$/i, 'ACL names are letters, digits, "-" and "_"'), aclList)
      .optional()
      .describe('Named address lists, used by `allow-query`, `resolver.allow`, `views[].clients`, `rate-limit.exempt`, ... Built in: `localhost`, `any`, `none`.'),
    keys: z.record(z.string().min(1), keySchema).optional().describe('TSIG keys by name (RFC 8945), for transfers, NOTIFY, UPDATE and signed queries; refer to them as `key NAME` in ACLs and remotes.'),
    'allow-query': aclList.optional().describe('Who may query our zones (ACL entries). Absent: any. A zone\'s own `allow-query` overrides it.'),
    zones: z.array(zoneSchema).default([]).describe('Zones served authoritatively.'),
    identity: identitySchema,
    nsid: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('NSID (RFC 5001) sent to clients that ask for it. Text, or `hex:0123ab` for raw bytes. Absent: not sent.'),
    edns: ednsSchema,
    tcp: tcpSchema,
    resolver: resolverSchema.optional(),
    views: z
      .array(viewSchema)
      .optional()
      .describe('Split horizon: the first view whose `clients` (and `destinations`, `keys`) match answers; no match: REFUSED. Zones not listed in a view are not served in it.'),
    'rate-limit': rateLimitSchema.optional(),
    cookies: cookiesSchema,
    any: z
      .enum(['minimal', 'refuse', 'tcp', 'full'])
      .default('minimal')
      .describe('qtype ANY (RFC 8482): `minimal` one RRset, `refuse` NOTIMP, `tcp` TC over UDP and everything over TCP, `full` everything.'),
    'max-amplification': z
      .number()
      .min(1)
      .max(1000)
      .optional()
      .describe('UDP clients without a valid DNS cookie get a truncated (TC) reply when it would be more than this many times the size of their query. Absent: no cap.'),
    monitor: monitorSection.optional().describe('Metrics and live statistics (docs/monitoring.md).'),
    'query-log': queryLogSection.optional().describe('The query log (docs/monitoring.md).'),
    detection: detectionSection.optional().describe('Abuse detection: tunneling, exfiltration, random-subdomain floods, beaconing, amplification (docs/monitoring.md).'),
    dnstap: dnstapSection
      .optional()
      .describe('dnstap output (Frame Streams) of client queries and responses, and optionally of authoritative and resolver traffic; never slows DNS: a bounded queue, drops counted (docs/monitoring.md).'),
    control: controlSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.zones.forEach((zc, i) => {
      let key: string;
      try {
        key = Name.parse(zc.name.endsWith('.') ? zc.name : zc.name + '.').key;
      } catch {
        return; // reported by the name check
      }
      if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `zone "${zc.name}" is already defined (zones[${seen.get(key)}])`, path: ['zones', i, 'name'] });
      else seen.set(key, i);
    });
    // Every worker opens its own dnstap output: a file would be truncated and interleaved.
    if (c.workers > 1 && c.dnstap?.file !== undefined)
      ctx.addIssue({ code: 'custom', message: 'cannot be shared by several workers: use dnstap.socket or dnstap.tcp (e.g. fstrm_capture) with workers > 1', path: ['dnstap', 'file'] });
    const acls = new Set(Object.keys(c.acl ?? {}));
    const checkRefs = (list: string[] | undefined, path: (string | number)[]) =>
      list?.forEach((entry, i) => {
        const body = entry.startsWith('!') ? entry.slice(1).trim() : entry;
        const key = /^key\s+(\S+)$/.exec(body);
        if (key) {
          if (!c.keys?.[key[1]!]) ctx.addIssue({ code: 'custom', message: `unknown key "${key[1]}"`, path: [...path, i] });
        } else if (/^[a-z][a-z0-9_-]*$/i.test(body) && !BUILTIN_ACLS.has(body) && !acls.has(body) && !c.keys?.[body])
          ctx.addIssue({ code: 'custom', message: `unknown ACL or key "${body}"`, path: [...path, i] });
      });
    for (const [name, list] of Object.entries(c.acl ?? {})) checkRefs(list, ['acl', name]);
    c.zones.forEach((zc, i) => {
      checkRefs(zc['allow-transfer'], ['zones', i, 'allow-transfer']);
      checkRefs(zc['allow-update'], ['zones', i, 'allow-update']);
      for (const field of ['primaries', 'notify'] as const)
        zc[field]?.forEach((r, j) => {
          const k = /\skey\s+(\S+)\s*$/.exec(r);
          if (k && !c.keys?.[k[1]!]) ctx.addIssue({ code: 'custom', message: `unknown key "${k[1]}"`, path: ['zones', i, field, j] });
        });
    });
    checkRefs(c.resolver?.allow, ['resolver', 'allow']);
    checkRefs(c['allow-query'], ['allow-query']);
    checkRefs(c['rate-limit']?.exempt, ['rate-limit', 'exempt']);
    c.zones.forEach((zc, i) => checkRefs(zc['allow-query'], ['zones', i, 'allow-query']));
    const viewNames = new Set<string>();
    c.views?.forEach((v, i) => {
      if (viewNames.has(v.name)) ctx.addIssue({ code: 'custom', message: `view "${v.name}" is already defined`, path: ['views', i, 'name'] });
      viewNames.add(v.name);
      checkRefs(v.clients, ['views', i, 'clients']);
      checkRefs(v.destinations, ['views', i, 'destinations']);
      checkRefs(v.recursion, ['views', i, 'recursion']);
      v.keys?.forEach((k, j) => {
        if (!c.keys?.[k]) ctx.addIssue({ code: 'custom', message: `unknown key "${k}"`, path: ['views', i, 'keys', j] });
      });
      v.zones.forEach((zc, j) => {
        if (typeof zc !== 'string') checkRefs(zc['allow-query'], ['views', i, 'zones', j, 'allow-query']);
      });
    });
  });

export type Config = z.output<typeof configSchema>;
export type ViewConfig = NonNullable<Config['views']>[number];
export type ZoneConfig = Config['zones'][number];

/** One problem in a config file, located at the offending key or value. */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.message}`;
}

/** The config used by `portcullis serve` without --config: loopback only, recursion for loopback. */
export const DEFAULT_CONFIG_TEXT = `# embedded default
listen: ["127.0.0.1:5353"]
resolver:
  allow: [127.0.0.0/8, "::1"]
`;

/** Reads and validates a config file; throws ConfigError. Relative paths become absolute. */
export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, line: 0, col: 0, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  return parseConfigText(text, file);
}

/** Validates config text; `file` names it in errors and anchors relative paths. */
export function parseConfigText(text: string, file: string): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  for (const err of [...doc.errors, ...doc.warnings]) {
    const p = lc.linePos(err.pos[0]);
    issues.push({ file, line: p.line, col: p.col, message: err.message.split('\n')[0]! });
  }
  if (doc.errors.length) throw new ConfigError(issues);
  issues.length = 0;
  const raw = doc.toJS() ?? {};
  const res = configSchema.safeParse(raw);
  if (!res.success) {
    for (const iss of res.error.issues) {
      const path = iss.path as (string | number)[];
      if (iss.code === 'unrecognized_keys') {
        for (const k of iss.keys) issues.push(locate(doc, lc, file, [...path, k], `unknown key "${k}"${suggest(k)}`, true));
      } else {
        issues.push(locate(doc, lc, file, path, describeIssue(iss, path, raw)));
      }
    }
    issues.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ConfigError(issues);
  }
  return resolvePaths(res.data, dirname(file));
}

function describeIssue(iss: z.core.$ZodIssue, path: (string | number)[], raw: unknown): string {
  const where = path.length ? `${path.join('.')}: ` : '';
  let v: unknown = raw;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  if (iss.code === 'invalid_type' && v === undefined) return `${where}missing required key`;
  if (iss.code === 'invalid_type') return `${where}expected ${iss.expected}, got ${JSON.stringify(v)}`;
  return `${where}${iss.message}`;
}

const knownKeys = ['listen', 'user', 'workers', 'log', 'acl', 'keys', 'allow-query', 'zones', 'identity', 'nsid', 'edns', 'tcp', 'resolver', 'views', 'rate-limit', 'cookies', 'any', 'max-amplification', 'monitor', 'query-log', 'detection', 'dnstap', 'control'];
function suggest(key: string): string {
  const camel = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()).replace(/_/g, '-');
  if (camel !== key) return ` (keys are kebab-case: "${camel}"?)`;
  const near = knownKeys.find((k) => k.startsWith(key.slice(0, 3)));
  return near && near !== key ? ` (did you mean "${near}"?)` : '';
}

/** Finds the YAML node for a path (the key node when `atKey`), walking up to the nearest node that exists. */
function locate(doc: Document, lc: LineCounter, file: string, path: (string | number)[], message: string, atKey = false): ConfigIssue {
  let node: unknown = doc.contents;
  let best: YamlNode | undefined = (doc.contents as YamlNode | null) ?? undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      if (last && atKey && pair.key && isScalar(pair.key)) {
        best = pair.key;
        break;
      }
      node = pair.value;
      // A key with no value (`file:`) points at its key.
      best = (pair.value as YamlNode | null) ?? (pair.key as YamlNode);
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) break;
      node = item;
      best = item as YamlNode;
    } else break;
  }
  const offset = best?.range?.[0] ?? 0;
  const p = lc.linePos(offset);
  return { file, line: p.line, col: p.col, message };
}

function resolvePaths(c: Config, base: string): Config {
  const abs = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(base, p));
  const zone = (zc: ZoneConfig): ZoneConfig => ({
    ...zc,
    file: abs(zc.file),
    ...(zc['catalog-directory'] ? { 'catalog-directory': abs(zc['catalog-directory']) } : {}),
    ...(zc.dnssec ? { dnssec: { ...zc.dnssec, 'key-directory': abs(zc.dnssec['key-directory']) } } : {}),
  });
  return {
    ...c,
    zones: c.zones.map(zone),
    resolver: c.resolver && { ...c.resolver, 'root-hints': abs(c.resolver['root-hints']), 'trust-anchors': abs(c.resolver['trust-anchors']) },
    views: c.views?.map((v) => ({ ...v, zones: v.zones.map((zc) => (typeof zc === 'string' ? zc : zone(zc))) })),
    cookies: { ...c.cookies, 'secret-file': abs(c.cookies['secret-file']) },
    control: c.control && { ...c.control, 'token-file': abs(c.control['token-file']) },
    dnstap: c.dnstap && { ...c.dnstap, socket: abs(c.dnstap.socket), file: abs(c.dnstap.file) },
  };

}

/** NSID bytes from the config value (`hex:...` or text). */
export function nsidBytes(nsid: string | undefined): Uint8Array | undefined {
  if (nsid === undefined) return undefined;
  if (nsid.startsWith('hex:')) return Uint8Array.from(Buffer.from(nsid.slice(4), 'hex'));
  return Uint8Array.from(Buffer.from(nsid, 'utf8'));
}
