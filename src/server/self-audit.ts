// Start-up self-audit: the risky settings an operator should know about, found in the config
// alone (no packets). `serve` logs each finding as a line with "msg":"self-audit" and refuses to
// start an open resolver unless `resolver.open-resolver: true` says it is meant.
import { isIP } from 'node:net';
import { parseListenAddress } from '../transport/address.js';
import { isLoopback, isPrivatePrefix, parsePrefix } from '../policy/address.js';
import type { Config } from './config.js';

export interface AuditFinding {
  /** Short id: open-resolver, transfer-any, update-without-tsig, public-without-rate-limit, identity-disclosed, control-public. */
  check: string;
  message: string;
}

export interface SelfAudit {
  warnings: AuditFinding[];
  /** Set when the config must not be served as it is (an open resolver not acknowledged). */
  fatal?: AuditFinding;
}

/** The built-in lists, as the ACL code knows them. */
const BUILTIN: Record<string, string[]> = { localhost: ['127.0.0.0/8', '::1'], loopback: ['127.0.0.0/8', '::1'], localnets: ['127.0.0.0/8', '::1'] };

/**
 * The positive entries of an ACL that let in clients outside private and loopback space:
 * `any`, or a public address or prefix (named lists expanded). Negated entries are ignored,
 * which errs on the side of warning. Key entries need a TSIG key and are not "open".
 */
export function openEntries(entries: readonly string[] | undefined, acls: Record<string, readonly string[]> = {}, seen = new Set<string>()): string[] {
  const out: string[] = [];
  for (const raw of entries ?? []) {
    const e = raw.trim();
    if (e.startsWith('!') || /^key\s/.test(e) || e === 'none') continue;
    if (e === 'any') {
      out.push('any');
      continue;
    }
    const list = acls[e] ?? BUILTIN[e];
    if (list) {
      if (!seen.has(e)) out.push(...openEntries(list, acls, new Set([...seen, e])));
      continue;
    }
    const p = parsePrefix(e);
    if (p && !isPrivatePrefix(p)) out.push(e);
  }
  return out;
}

function isPublicHost(host: string): boolean {
  if (!isIP(host)) return true; // a name: assume it can be reached from outside
  if (isLoopback(host)) return false;
  if (host === '0.0.0.0' || host === '::') return true;
  const p = parsePrefix(host);
  return !p || !isPrivatePrefix(p);
}

function nonLoopbackListeners(config: Config): string[] {
  const out: string[] = [];
  for (const text of config.listen) {
    try {
      const a = parseListenAddress(text);
      if (!isLoopback(a.host)) out.push(text);
    } catch {
      /* reported by the config check */
    }
  }
  return out;
}

export function selfAudit(config: Config): SelfAudit {
  const warnings: AuditFinding[] = [];
  const acls = config.acl ?? {};
  let fatal: AuditFinding | undefined;

  // Open resolver: recursion for any or public clients, reachable from outside loopback.
  if (config.resolver) {
    const lists: Array<[string, readonly string[] | undefined]> = [['resolver.allow', config.resolver.allow]];
    for (const v of config.views ?? []) if (v.recursion) lists.push([`views.${v.name}.recursion`, v.recursion]);
    const outside = nonLoopbackListeners(config);
    for (const [where, list] of lists) {
      const open = openEntries(list, acls);
      if (open.length === 0) continue;
      const message =
        `${where} lets ${open.join(', ')} recurse` +
        (outside.length ? ` on ${outside.join(', ')}: an open resolver is used to amplify attacks on third parties and to poison caches` : '');
      if (outside.length && !config.resolver['open-resolver']) {
        fatal ??= {
          check: 'open-resolver',
          message: `${message}. Limit ${where} to your own networks, or set "resolver.open-resolver: true" if this is really meant`,
        };
      } else if (outside.length) warnings.push({ check: 'open-resolver', message: `${message} (open-resolver: true)` });
    }
  }

  const zoneEntries = [
    ...config.zones.map((zc) => ({ where: `zone ${zc.name}`, zc })),
    ...(config.views ?? []).flatMap((v) => v.zones.flatMap((zc) => (typeof zc === 'string' ? [] : [{ where: `view ${v.name} zone ${zc.name}`, zc }]))),
  ];
  for (const { where, zc } of zoneEntries) {
    if (openEntries(zc['allow-transfer'], acls).includes('any') || zc['allow-transfer']?.includes('any'))
      warnings.push({ check: 'transfer-any', message: `${where}: allow-transfer lets anyone copy the whole zone (use TSIG keys or your secondaries' addresses)` });
    const unsigned = (zc['allow-update'] ?? []).filter((e) => !/^\s*key\s/.test(e) && e.trim() !== 'none' && !e.trim().startsWith('!') && !config.keys?.[e.trim()]);
    if (unsigned.length)
      warnings.push({ check: 'update-without-tsig', message: `${where}: allow-update admits ${unsigned.join(', ')} without a TSIG key (addresses can be spoofed over UDP)` });
  }

  const publicListeners = config.listen.filter((text) => {
    try {
      return isPublicHost(parseListenAddress(text).host);
    } catch {
      return false;
    }
  });
  if (publicListeners.length && !config['rate-limit'])
    warnings.push({ check: 'public-without-rate-limit', message: `${publicListeners.join(', ')} can be reached from the Internet and there is no "rate-limit:" section: the server can be used for reflection` });

  const id = config.identity;
  const shown = [id.version && 'version', id.hostname && 'hostname', id['server-id'] && 'server-id', config.nsid && 'nsid'].filter(Boolean);
  if (shown.length) warnings.push({ check: 'identity-disclosed', message: `the server tells clients its ${shown.join(', ')} (helps attackers pick exploits; hidden by default)` });

  if (config.control) {
    try {
      const host = /^\[?([^\]]+?)\]?:\d+$/.exec(config.control.listen)?.[1] ?? config.control.listen;
      if (!isLoopback(host) && host !== 'localhost') warnings.push({ check: 'control-public', message: `the control API listens on ${config.control.listen}, outside loopback` });
    } catch {
      /* reported elsewhere */
    }
  }
  return { warnings, fatal };
}
