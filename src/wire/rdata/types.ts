/**
 * The regular record types as field tables. Each interface documents the data shape the codec
 * produces and expects; names are `Name`, blobs `Uint8Array`, addresses their text form.
 * Field kinds are in fields.ts. `cname` fields compress (RFC 1035 types only, RFC 3597 §4);
 * `lower` marks the types whose names are lower-cased in canonical form (RFC 4034 §6.2,
 * RFC 6840 §5.1).
 */
import { RRType } from '../constants.js';
import type { Name } from '../name.js';
import { defineTable } from './fields.js';
import { txtCodec } from './basic.js';
import { registerCodec } from './codec.js';

const lower = { lower: true } as const;

// ---- RFC 1035 and other early types ----

/** MD, MF, MB, MG, MR (obsolete RFC 1035 mail types): one name. */
export interface MailNameData { target: Name }
defineTable<MailNameData>(RRType.MD, [['target', 'cname']], lower);
defineTable<MailNameData>(RRType.MF, [['target', 'cname']], lower);
defineTable<MailNameData>(RRType.MB, [['target', 'cname']], lower);
defineTable<MailNameData>(RRType.MG, [['target', 'cname']], lower);
defineTable<MailNameData>(RRType.MR, [['target', 'cname']], lower);

/** MINFO (RFC 1035 §3.3.7). */
export interface MinfoData { rmailbx: Name; emailbx: Name }
defineTable<MinfoData>(RRType.MINFO, [['rmailbx', 'cname'], ['emailbx', 'cname']], lower);

/** HINFO (RFC 1035 §3.3.2): two character-strings. */
export interface HinfoData { cpu: Uint8Array; os: Uint8Array }
defineTable<HinfoData>(RRType.HINFO, [['cpu', 'string'], ['os', 'string']]);

/** RP (RFC 1183 §2.2). */
export interface RpData { mbox: Name; txt: Name }
defineTable<RpData>(RRType.RP, [['mbox', 'name'], ['txt', 'name']], lower);

/** AFSDB (RFC 1183 §1). */
export interface AfsdbData { subtype: number; hostname: Name }
defineTable<AfsdbData>(RRType.AFSDB, [['subtype', 'u16'], ['hostname', 'name']], lower);

/** X25 (RFC 1183 §3.1): PSDN address. */
export interface X25Data { address: Uint8Array }
defineTable<X25Data>(RRType.X25, [['address', 'string']]);

/** ISDN (RFC 1183 §3.2): address and optional subaddress. */
export interface IsdnData { address: Uint8Array; subaddress?: Uint8Array }
defineTable<IsdnData>(RRType.ISDN, [['address', 'string'], ['subaddress', 'string', 'optional']]);

/** RT (RFC 1183 §3.3). */
export interface RtData { preference: number; host: Name }
defineTable<RtData>(RRType.RT, [['preference', 'u16'], ['host', 'name']], lower);

/** NSAP (RFC 1706 §5): the address bytes, shown as `0x...`. */
export interface NsapData { address: Uint8Array }
defineTable<NsapData>(RRType.NSAP, [['address', 'nsap']]);

/** NSAP-PTR (RFC 1348): one name. */
export interface NsapPtrData { target: Name }
defineTable<NsapPtrData>(RRType['NSAP-PTR'], [['target', 'name']]);

/** PX (RFC 2163 §4). */
export interface PxData { preference: number; map822: Name; mapx400: Name }
defineTable<PxData>(RRType.PX, [['preference', 'u16'], ['map822', 'name'], ['mapx400', 'name']], lower);

/** GPOS (RFC 1712): latitude, longitude, altitude as decimal strings. */
export interface GposData { longitude: Uint8Array; latitude: Uint8Array; altitude: Uint8Array }
defineTable<GposData>(RRType.GPOS, [['longitude', 'string'], ['latitude', 'string'], ['altitude', 'string']]);

/** SRV (RFC 2782). */
export interface SrvData { priority: number; weight: number; port: number; target: Name }
defineTable<SrvData>(RRType.SRV, [['priority', 'u16'], ['weight', 'u16'], ['port', 'u16'], ['target', 'name']], lower);

/** NAPTR (RFC 3403 §4.1). */
export interface NaptrData { order: number; preference: number; flags: Uint8Array; services: Uint8Array; regexp: Uint8Array; replacement: Name }
defineTable<NaptrData>(RRType.NAPTR, [
  ['order', 'u16'], ['preference', 'u16'], ['flags', 'string'], ['services', 'string'], ['regexp', 'string'], ['replacement', 'name'],
], lower);

/** KX (RFC 2230). */
export interface KxData { preference: number; exchanger: Name }
defineTable<KxData>(RRType.KX, [['preference', 'u16'], ['exchanger', 'name']], lower);

/** CERT (RFC 4398 §2): type shown by mnemonic when known. */
export interface CertData { certType: number; keyTag: number; algorithm: number; certificate: Uint8Array }
defineTable<CertData>(RRType.CERT, [['certType', 'certType', { label: 'certificate type' }], ['keyTag', 'u16'], ['algorithm', 'algorithm'], ['certificate', 'base64']]);

/** DHCID (RFC 4701): opaque digest, base64. */
export interface DhcidData { digest: Uint8Array }
defineTable<DhcidData>(RRType.DHCID, [['digest', 'base64']]);

/** NINFO (zone status, draft): text strings like TXT. */
registerCodec(txtCodec(RRType.NINFO));
/** AVC (application visibility, IANA): text strings like TXT. */
registerCodec(txtCodec(RRType.AVC));
/** RESINFO (RFC 9606): text strings like TXT. */
registerCodec(txtCodec(RRType.RESINFO));
/** WALLET (IANA 2024, type 262): text strings like TXT. */
registerCodec(txtCodec(RRType.WALLET));

/**
 * DSYNC (draft-ietf-dnsop-generalized-notify, IANA type 66): where to send NOTIFY(CDS/CSYNC)
 * for a child zone. `rrtype` by mnemonic, scheme 1 as NOTIFY; the target is never compressed.
 */
export interface DsyncData { rrtype: number; scheme: number; port: number; target: Name }
defineTable<DsyncData>(RRType.DSYNC, [['rrtype', 'type'], ['scheme', 'dsyncScheme'], ['port', 'u16'], ['target', 'name']]);

/** HHIT (DRIP, draft-ietf-drip-registries; IANA type 67): one opaque blob, base64. */
export interface HhitData { data: Uint8Array }
defineTable<HhitData>(RRType.HHIT, [['data', 'base64']]);

/** BRID (DRIP, draft-ietf-drip-registries; IANA type 68): one opaque blob, base64. */
export interface BridData { data: Uint8Array }
defineTable<BridData>(RRType.BRID, [['data', 'base64']]);

// ---- DNSSEC (RFC 4034, 5155, 7344, 8976) and its predecessors ----

/** DS, CDS, DLV, TA (RFC 4034 §5, RFC 7344, RFC 4431): digest printed as upper-case hex. */
export interface DsData { keyTag: number; algorithm: number; digestType: number; digest: Uint8Array }
for (const type of [RRType.DS, RRType.CDS, RRType.DLV, RRType.TA]) {
  defineTable<DsData>(type, [['keyTag', 'u16'], ['algorithm', 'algorithm'], ['digestType', 'u8'], ['digest', 'hex']]);
}

/** DNSKEY, CDNSKEY, KEY, RKEY (RFC 4034 §2, RFC 2535 §3): public key as base64. */
export interface DnskeyData { flags: number; protocol: number; algorithm: number; publicKey: Uint8Array }
for (const type of [RRType.DNSKEY, RRType.CDNSKEY, RRType.KEY, RRType.RKEY]) {
  defineTable<DnskeyData>(type, [['flags', 'u16'], ['protocol', 'u8'], ['algorithm', 'algorithm'], ['publicKey', 'base64']]);
}

/**
 * RRSIG and SIG (RFC 4034 §3, RFC 2535 §4). Times are the 32-bit wire values (seconds since
 * 1970 modulo 2^32), printed as YYYYMMDDHHmmSS.
 */
export interface RrsigData {
  typeCovered: number; algorithm: number; labels: number; originalTtl: number;
  expiration: number; inception: number; keyTag: number; signerName: Name; signature: Uint8Array;
}
for (const type of [RRType.RRSIG, RRType.SIG]) {
  defineTable<RrsigData>(type, [
    ['typeCovered', 'type'], ['algorithm', 'algorithm'], ['labels', 'u8'], ['originalTtl', 'u32'],
    ['expiration', 'time'], ['inception', 'time'], ['keyTag', 'u16'], ['signerName', 'name'], ['signature', 'base64'],
  ], lower);
}

/** NSEC (RFC 4034 §4): types sorted ascending. Not lower-cased in canonical form (RFC 6840 §5.1). */
export interface NsecData { next: Name; types: number[] }
defineTable<NsecData>(RRType.NSEC, [['next', 'name'], ['types', 'typeBitmap']]);

/** NXT (RFC 2535 §5, obsolete): types 1..127 only. */
export interface NxtData { next: Name; types: number[] }
defineTable<NxtData>(RRType.NXT, [['next', 'name'], ['types', 'nxtBitmap']], lower);

/** NSEC3 (RFC 5155 §3): salt and next hashed owner as bytes. */
export interface Nsec3Data { hashAlgorithm: number; flags: number; iterations: number; salt: Uint8Array; nextHashed: Uint8Array; types: number[] }
defineTable<Nsec3Data>(RRType.NSEC3, [
  ['hashAlgorithm', 'u8'], ['flags', 'u8'], ['iterations', 'u16'], ['salt', 'hex8'], ['nextHashed', 'base32hex8'], ['types', 'typeBitmap'],
]);

/** NSEC3PARAM (RFC 5155 §4). */
export interface Nsec3ParamData { hashAlgorithm: number; flags: number; iterations: number; salt: Uint8Array }
defineTable<Nsec3ParamData>(RRType.NSEC3PARAM, [['hashAlgorithm', 'u8'], ['flags', 'u8'], ['iterations', 'u16'], ['salt', 'hex8']]);

/** CSYNC (RFC 7477). */
export interface CsyncData { serial: number; flags: number; types: number[] }
defineTable<CsyncData>(RRType.CSYNC, [['serial', 'u32'], ['flags', 'u16'], ['types', 'typeBitmap']]);

/** ZONEMD (RFC 8976). */
export interface ZonemdData { serial: number; scheme: number; hashAlgorithm: number; digest: Uint8Array }
defineTable<ZonemdData>(RRType.ZONEMD, [['serial', 'u32'], ['scheme', 'u8'], ['hashAlgorithm', 'u8'], ['digest', 'hex']]);

// ---- keys and fingerprints ----

/** SSHFP (RFC 4255). */
export interface SshfpData { algorithm: number; fingerprintType: number; fingerprint: Uint8Array }
defineTable<SshfpData>(RRType.SSHFP, [['algorithm', 'u8'], ['fingerprintType', 'u8'], ['fingerprint', 'hex']]);

/** TLSA and SMIMEA (RFC 6698, RFC 8162). */
export interface TlsaData { usage: number; selector: number; matchingType: number; certificate: Uint8Array }
defineTable<TlsaData>(RRType.TLSA, [['usage', 'u8'], ['selector', 'u8'], ['matchingType', 'u8'], ['certificate', 'hex']]);
defineTable<TlsaData>(RRType.SMIMEA, [['usage', 'u8'], ['selector', 'u8'], ['matchingType', 'u8'], ['certificate', 'hex']]);

/** OPENPGPKEY (RFC 7929). */
export interface OpenpgpkeyData { publicKey: Uint8Array }
defineTable<OpenpgpkeyData>(RRType.OPENPGPKEY, [['publicKey', 'base64']]);

/** TALINK (trust anchor link, IANA): previous and next names. */
export interface TalinkData { previous: Name; next: Name }
defineTable<TalinkData>(RRType.TALINK, [['previous', 'name'], ['next', 'name']]);

// ---- newer small types ----

/** URI (RFC 7553): the target is the rest of the RDATA, shown quoted. */
export interface UriData { priority: number; weight: number; target: Uint8Array }
defineTable<UriData>(RRType.URI, [['priority', 'u16'], ['weight', 'u16'], ['target', 'textToEnd']]);

/** CAA (RFC 8659 §4.1): value is the rest of the RDATA, shown quoted. */
export interface CaaData { flags: number; tag: string; value: Uint8Array }
defineTable<CaaData>(RRType.CAA, [['flags', 'u8'], ['tag', 'caaTag'], ['value', 'textToEnd']]);

/** EUI48 / EUI64 (RFC 7043): address as lower-case `xx-xx-...`. */
export interface EuiData { address: string }
defineTable<EuiData>(RRType.EUI48, [['address', 'eui48']]);
defineTable<EuiData>(RRType.EUI64, [['address', 'eui64']]);

/** NID and L64 (RFC 6742): preference and a 64-bit value as `xxxx:xxxx:xxxx:xxxx`. */
export interface NidData { preference: number; nodeId: string }
defineTable<NidData>(RRType.NID, [['preference', 'u16'], ['nodeId', 'ilnp64']]);
export interface L64Data { preference: number; locator: string }
defineTable<L64Data>(RRType.L64, [['preference', 'u16'], ['locator', 'ilnp64']]);
/** L32 (RFC 6742): preference and an IPv4-shaped locator. */
export interface L32Data { preference: number; locator: string }
defineTable<L32Data>(RRType.L32, [['preference', 'u16'], ['locator', 'ipv4']]);
/** LP (RFC 6742): preference and a name (not compressed, case kept in canonical form). */
export interface LpData { preference: number; fqdn: Name }
defineTable<LpData>(RRType.LP, [['preference', 'u16'], ['fqdn', 'name']]);

// ---- meta types that still have a presentation form ----

/** TSIG (RFC 8945 §4.2). `timeSigned` is 48-bit seconds; `error` an rcode (16 = BADSIG). */
export interface TsigData {
  algorithm: Name; timeSigned: number; fudge: number; mac: Uint8Array; originalId: number; error: number; otherData: Uint8Array;
}
defineTable<TsigData>(RRType.TSIG, [
  ['algorithm', 'name'], ['timeSigned', 'u48'], ['fudge', 'u16'], ['mac', 'base64With16'], ['originalId', 'u16'],
  ['error', 'tsigError'], ['otherData', 'base64With16'],
]);

/** TKEY (RFC 2930 §2). */
export interface TkeyData {
  algorithm: Name; inception: number; expiration: number; mode: number; error: number; key: Uint8Array; otherData: Uint8Array;
}
defineTable<TkeyData>(RRType.TKEY, [
  ['algorithm', 'name'], ['inception', 'time'], ['expiration', 'time'], ['mode', 'u16'], ['error', 'tsigError'],
  ['key', 'base64With16'], ['otherData', 'base64With16'],
]);
