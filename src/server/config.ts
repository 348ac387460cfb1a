// The YAML config file: one zod schema is the single source for validation, defaults and
// docs/config.md (scripts/gen-config-doc.ts walks it). Keys are kebab-case; unknown keys are errors.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isIP } from 'node:net';
import { isMap, isSeq, isPair, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { Name } from '../wire/index.js';
import { parseListenAddress } from '../transport/address.js';

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

// ---- sections ----

const zoneSchema = z
  .strictObject({
    name: domainName.describe('Zone origin, e.g. `example.test`.'),
    file: z.string().min(1).optional().describe('Zone file (primary: read from it; secondary: kept in it). Relative to the config file.'),
    primaries: z
      .array(z.string().min(1))
      .optional()
      .describe(`Secondary zone: where to pull it from, e.g. \`"192.0.2.1:53 key xfr-key"\` ${NOT_ACTIVE}.`),
    'allow-transfer': aclList.optional().describe(`Who may AXFR/IXFR (ACL entries; default none) ${NOT_ACTIVE}.`),
    notify: z.array(hostPort).optional().describe(`Secondaries to NOTIFY on change ${NOT_ACTIVE}.`),
    'allow-update': aclList.optional().describe(`Who may send dynamic updates (default none) ${NOT_ACTIVE}.`),
    dnssec: z
      .strictObject({ sign: z.boolean().default(false).describe('Sign the zone online.') })
      .optional()
      .describe(`DNSSEC signing ${NOT_ACTIVE}.`),
  })
  .superRefine((zc, ctx) => {
    if (!zc.primaries && !zc.file) ctx.addIssue({ code: 'custom', message: 'a primary zone needs "file"', path: [] });
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

const resolverSchema = z
  .strictObject({
    allow: aclList.optional().describe('Who may recurse (ACL entries). Absent: loopback only; `[]`: no recursion.'),
    'root-hints': z.string().optional().describe('Root hints file. Absent: the built-in IANA root hints.'),
    'query-port': z.number().int().min(1).max(65535).default(53).describe('Destination port of outgoing queries (tests use a high port).'),
    forward: z
      .array(
        z.strictObject({
          zone: domainName.describe('Names at or below this zone are forwarded.'),
          to: z.array(hostPort).min(1).describe('Upstream servers.'),
        }),
      )
      .optional()
      .describe('Forward zones instead of iterating.'),
    dnssec: z.enum(['validate', 'off']).default('validate').describe('DNSSEC validation.'),
    'trust-anchors': z.string().optional().describe('DS or DNSKEY records in zone-file syntax. Absent: the root\'s.'),
  })
  .describe(`Recursive resolver ${NOT_ACTIVE}: the resolver is not built yet, so queries outside our zones are REFUSED.`);

const viewSchema = z.strictObject({
  name: z.string().min(1).describe('View name.'),
  clients: aclList.describe('Who sees this view (ACL entries).'),
  zones: z.array(domainName).default([]).describe('Zones served in this view.'),
});

const rateLimitSchema = z
  .strictObject({
    'responses-per-second': z.number().int().min(1).default(20).describe('Identical responses per second per client netblock.'),
    slip: z.number().int().min(0).max(10).default(2).describe('Every Nth dropped response is sent truncated instead (0: never).'),
    window: z.number().int().min(1).max(3600).default(15).describe('Seconds over which rates are averaged.'),
  })
  .describe(`Response rate limiting ${NOT_ACTIVE}.`);

const controlSchema = z
  .strictObject({
    listen: hostPort.default('127.0.0.1:8053').describe('Address of the HTTP control API, /metrics and dashboard.'),
    token: z.string().optional().describe('Bearer token required by the control API.'),
  })
  .describe(`Control API ${NOT_ACTIVE}.`);

const logSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info').describe('Lowest level written.'),
  })
  .default({ level: 'info' })
  .describe('Logging: JSON lines on stderr (readable text when stderr is a terminal).');

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
      .describe('Processes serving the same sockets (node:cluster). UDP sockets are shared: every worker reads the same socket and the kernel hands each datagram to one. TCP connections are accepted by the primary and handed out round-robin.'),
    log: logSchema,
    acl: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/i, 'ACL names are letters, digits, "-" and "_"'), aclList).optional().describe(`Named address lists ${NOT_ACTIVE}.`),
    keys: z.record(z.string().min(1), keySchema).optional().describe(`TSIG keys by name ${NOT_ACTIVE}.`),
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
    views: z.array(viewSchema).optional().describe(`Split horizon, first match wins ${NOT_ACTIVE}.`),
    'rate-limit': rateLimitSchema.optional(),
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
    const acls = new Set(Object.keys(c.acl ?? {}));
    const checkRefs = (list: string[] | undefined, path: (string | number)[]) =>
      list?.forEach((entry, i) => {
        const body = entry.startsWith('!') ? entry.slice(1).trim() : entry;
        const key = /^key\s+(\S+)$/.exec(body);
        if (key) {
          if (!c.keys?.[key[1]!]) ctx.addIssue({ code: 'custom', message: `unknown key "${key[1]}"`, path: [...path, i] });
        } else if (/^[a-z][a-z0-9_-]*$/i.test(body) && body !== 'any' && body !== 'none' && !acls.has(body) && !c.keys?.[body])
          ctx.addIssue({ code: 'custom', message: `unknown ACL or key "${body}"`, path: [...path, i] });
      });
    for (const [name, list] of Object.entries(c.acl ?? {})) checkRefs(list, ['acl', name]);
    c.zones.forEach((zc, i) => {
      checkRefs(zc['allow-transfer'], ['zones', i, 'allow-transfer']);
      checkRefs(zc['allow-update'], ['zones', i, 'allow-update']);
    });
    checkRefs(c.resolver?.allow, ['resolver', 'allow']);
    c.views?.forEach((v, i) => checkRefs(v.clients, ['views', i, 'clients']));
  });

export type Config = z.output<typeof configSchema>;
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

const knownKeys = ['listen', 'user', 'workers', 'log', 'acl', 'keys', 'zones', 'identity', 'nsid', 'edns', 'tcp', 'resolver', 'views', 'rate-limit', 'control'];
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
  return {
    ...c,
    zones: c.zones.map((zc) => ({ ...zc, file: abs(zc.file) })),
    resolver: c.resolver && { ...c.resolver, 'root-hints': abs(c.resolver['root-hints']), 'trust-anchors': abs(c.resolver['trust-anchors']) },
  };
}

/** NSID bytes from the config value (`hex:...` or text). */
export function nsidBytes(nsid: string | undefined): Uint8Array | undefined {
  if (nsid === undefined) return undefined;
  if (nsid.startsWith('hex:')) return Uint8Array.from(Buffer.from(nsid.slice(4), 'hex'));
  return Uint8Array.from(Buffer.from(nsid, 'utf8'));
}
