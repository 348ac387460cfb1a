import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { keyAlgorithmSupported } from './keys.js';
import { DEFAULT_ROLLOVER, type RolloverPolicy } from './rollover.js';
import { DEFAULT_POLICY, type SigningPolicy } from './signer.js';

/**
 * The per-zone `dnssec:` config block and its mapping to a signing policy. Durations are a
 * number of seconds or a number with a unit: `90s`, `30m`, `12h`, `14d`, `2w`.
 */

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  const m = /^\s*(\d+)\s*([smhdw]?)\s*$/i.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * UNITS[(m[2] || 's').toLowerCase()]!;
}

const duration = (desc: string) =>
  z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const s = parseDuration(v);
      if (s === undefined) {
        ctx.addIssue({ code: 'custom', message: `bad duration "${v}" (seconds, or a number with s, m, h, d or w)` });
        return z.NEVER;
      }
      return s;
    })
    .optional()
    .describe(desc);

export const dnssecZoneSchema = z
  .strictObject({
    sign: z.boolean().default(false).describe('Sign the zone online. Off: a zone that already holds DNSKEY/RRSIG (signed elsewhere) is served as it is.'),
    algorithm: z
      .union([z.literal(8), z.literal(10), z.literal(13), z.literal(14), z.literal(15), z.literal(16)])
      .default(13)
      .describe('Algorithm of generated keys: 13 ECDSA P-256 (default, RFC 8624 recommended), 8 RSA/SHA-256, 15 Ed25519, 10, 14, 16.'),
    keys: z.enum(['csk', 'ksk-zsk']).default('csk').describe('One combined signing key, or a key-signing key plus a zone-signing key.'),
    denial: z.enum(['nsec3', 'nsec']).default('nsec3').describe('Authenticated denial: NSEC3 (RFC 5155, with RFC 9276 parameters) or NSEC (RFC 4034).'),
    'nsec3-iterations': z.number().int().min(0).max(100).default(0).describe('Extra NSEC3 hash iterations; RFC 9276 §3.1 says 0.'),
    'nsec3-salt': z.string().regex(/^(-|[0-9a-fA-F]{0,510})$/).default('-').describe('NSEC3 salt in hex, `-` for none (RFC 9276 §3.1: none).'),
    'nsec3-opt-out': z.boolean().default(false).describe('NSEC3 opt-out for unsigned delegations (RFC 5155 §6); only for zones with very many of them.'),
    'signature-lifetime': duration('Validity of new signatures (default 14d).'),
    'signature-refresh': duration('Re-sign signatures with less than this left (default 5d).'),
    'signature-jitter': duration('Spread of expirations (default 1d).'),
    'dnskey-ttl': duration('TTL of DNSKEY, CDS and CDNSKEY (default 1h).'),
    cds: z.boolean().default(true).describe('Publish CDS/CDNSKEY for the key-signing key (RFC 7344, RFC 8078).'),
    'key-directory': z.string().min(1).optional().describe('Where the BIND-format key files live; default: the zone file\'s folder.'),
    'zsk-lifetime': duration('Roll the zone-signing key (pre-publish) after this long; 0 or absent: never (default).'),
    'ksk-lifetime': duration('Roll the key-signing key or CSK (new DS at the parent, confirmed with `portcullis dnssec ds-seen`) after this long; 0 or absent: never (default).'),
    'publish-safety': duration('Margin beyond the DNSKEY TTL before a new key signs (default 1h).'),
    'retire-safety': duration('Margin beyond TTLs before an old key is withdrawn (default 1h).'),
    'parent-ds-ttl': duration('TTL of the DS records at the parent: the old KSK stays this long (plus retire-safety) after the new DS is seen (default 1d).'),
  })
  .superRefine((c, ctx) => {
    if (!keyAlgorithmSupported(c.algorithm)) ctx.addIssue({ code: 'custom', message: `algorithm ${c.algorithm} is not supported`, path: ['algorithm'] });
    const life = c['signature-lifetime'] ?? DEFAULT_POLICY.signatureLifetime;
    const refresh = c['signature-refresh'] ?? DEFAULT_POLICY.signatureRefresh;
    const jitter = c['signature-jitter'] ?? DEFAULT_POLICY.signatureJitter;
    if (life < 3600) ctx.addIssue({ code: 'custom', message: 'signature-lifetime must be at least 1h', path: ['signature-lifetime'] });
    if (refresh + jitter >= life) ctx.addIssue({ code: 'custom', message: 'signature-refresh plus signature-jitter must be less than signature-lifetime', path: ['signature-refresh'] });
    const ttl = c['dnskey-ttl'] ?? DEFAULT_POLICY.dnskeyTtl;
    const prepublish = ttl + (c['publish-safety'] ?? DEFAULT_ROLLOVER.publishSafety);
    for (const key of ['zsk-lifetime', 'ksk-lifetime'] as const) {
      const v = c[key];
      // A key must sign for longer than its successor takes to become usable.
      if (v && v <= 2 * prepublish) ctx.addIssue({ code: 'custom', message: `${key} must be longer than twice dnskey-ttl plus publish-safety (${2 * prepublish}s)`, path: [key] });
    }
  })
  .describe('DNSSEC signing of this zone (see docs/dnssec.md).');

export type DnssecZoneConfig = z.output<typeof dnssecZoneSchema>;

export interface SignerSettings {
  policy: SigningPolicy;
  algorithm: number;
  split: boolean;
  keyDirectory: string;
  /** Automatic rollovers; absent: keys are never rolled (timing set by hand still works). */
  rollover?: RolloverPolicy;
}

/**
 * Policy, key algorithm/layout and key folder for a zone. A relative `key-directory` is taken
 * from `configDir` (the config file's folder, as every path in the config) when given; without
 * one the keys live in the zone file's folder.
 */
export function signerSettings(c: DnssecZoneConfig, zoneFile: string, configDir?: string): SignerSettings {
  const salt = c['nsec3-salt'] === '-' ? new Uint8Array(0) : new Uint8Array(Buffer.from(c['nsec3-salt'], 'hex'));
  const policy: SigningPolicy = {
    ...DEFAULT_POLICY,
    denial: c.denial,
    nsec3Iterations: c['nsec3-iterations'],
    nsec3Salt: salt,
    nsec3OptOut: c['nsec3-opt-out'],
    signatureLifetime: c['signature-lifetime'] ?? DEFAULT_POLICY.signatureLifetime,
    signatureRefresh: c['signature-refresh'] ?? DEFAULT_POLICY.signatureRefresh,
    signatureJitter: c['signature-jitter'] ?? DEFAULT_POLICY.signatureJitter,
    dnskeyTtl: c['dnskey-ttl'] ?? DEFAULT_POLICY.dnskeyTtl,
    cds: c.cds,
    cdsDigests: [...DEFAULT_POLICY.cdsDigests],
  };
  const zoneDir = dirname(resolve(zoneFile));
  const kd = c['key-directory'];
  const dir = kd ? (isAbsolute(kd) ? kd : resolve(configDir ?? zoneDir, kd)) : zoneDir;
  const rollover: RolloverPolicy = {
    zskLifetime: c['zsk-lifetime'] ?? DEFAULT_ROLLOVER.zskLifetime,
    kskLifetime: c['ksk-lifetime'] ?? DEFAULT_ROLLOVER.kskLifetime,
    publishSafety: c['publish-safety'] ?? DEFAULT_ROLLOVER.publishSafety,
    retireSafety: c['retire-safety'] ?? DEFAULT_ROLLOVER.retireSafety,
    parentDsTtl: c['parent-ds-ttl'] ?? DEFAULT_ROLLOVER.parentDsTtl,
  };
  return { policy, algorithm: c.algorithm, split: c.keys === 'ksk-zsk', keyDirectory: dir, rollover };
}
