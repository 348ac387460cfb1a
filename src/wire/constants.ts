/** Resource record types by mnemonic (IANA "Resource Record (RR) TYPEs"). */
export const RRType = {
  A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, NULL: 10, WKS: 11, PTR: 12,
  HINFO: 13, MINFO: 14, MX: 15, TXT: 16, RP: 17, AFSDB: 18, X25: 19, ISDN: 20, RT: 21, NSAP: 22,
  'NSAP-PTR': 23, SIG: 24, KEY: 25, PX: 26, GPOS: 27, AAAA: 28, LOC: 29, NXT: 30, EID: 31,
  NIMLOC: 32, SRV: 33, ATMA: 34, NAPTR: 35, KX: 36, CERT: 37, A6: 38, DNAME: 39, SINK: 40,
  OPT: 41, APL: 42, DS: 43, SSHFP: 44, IPSECKEY: 45, RRSIG: 46, NSEC: 47, DNSKEY: 48, DHCID: 49,
  NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, SMIMEA: 53, HIP: 55, NINFO: 56, RKEY: 57, TALINK: 58,
  CDS: 59, CDNSKEY: 60, OPENPGPKEY: 61, CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65, DSYNC: 66,
  HHIT: 67, BRID: 68, SPF: 99,
  UINFO: 100, UID: 101, GID: 102, UNSPEC: 103, NID: 104, L32: 105, L64: 106, LP: 107, EUI48: 108,
  EUI64: 109, TKEY: 249, TSIG: 250, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255,
  URI: 256, CAA: 257, AVC: 258, DOA: 259, AMTRELAY: 260, RESINFO: 261, WALLET: 262, TA: 32768, DLV: 32769,
} as const;
export type RRTypeName = keyof typeof RRType;

const typeNames = new Map<number, string>(Object.entries(RRType).map(([k, v]) => [v, k]));
const typeNumbers = new Map<string, number>(Object.entries(RRType));

/** Mnemonic of a type, or the RFC 3597 `TYPEnnn` form. */
export function typeToString(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

/** Type number from a mnemonic or `TYPEnnn`; undefined when neither. */
export function typeFromString(text: string): number | undefined {
  // Zone files mostly spell mnemonics in upper case: one map lookup, no upper-cased copy.
  const exact = typeNumbers.get(text);
  if (exact !== undefined) return exact;
  const up = text.toUpperCase();
  const known = typeNumbers.get(up);
  if (known !== undefined) return known;
  const m = /^TYPE([0-9]{1,5})$/.exec(up);
  if (m) {
    const v = Number(m[1]);
    if (v <= 0xffff) return v;
  }
  return undefined;
}

/** Meta and query-only types that never appear in zone data. */
export function isMetaType(type: number): boolean {
  return type === RRType.OPT || (type >= 128 && type <= 255);
}

export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;
const classNames = new Map<number, string>(Object.entries(RRClass).map(([k, v]) => [v, k]));
const classNumbers = new Map<string, number>(Object.entries(RRClass));

export function classToString(cls: number): string {
  return classNames.get(cls) ?? `CLASS${cls}`;
}

export function classFromString(text: string): number | undefined {
  const exact = classNumbers.get(text);
  if (exact !== undefined) return exact;
  const up = text.toUpperCase();
  const known = classNumbers.get(up);
  if (known !== undefined) return known;
  // Every other token of a record's head (a type mnemonic, mostly) ends here, without a regex.
  if (!up.startsWith('CLASS')) return undefined;
  const m = /^CLASS([0-9]{1,5})$/.exec(up);
  if (m) {
    const v = Number(m[1]);
    if (v <= 0xffff) return v;
  }
  return undefined;
}

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5, DSO: 6 } as const;

/** Response codes, including the EDNS and TSIG extended ones. */
export const Rcode = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6,
  YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10, DSOTYPENI: 11, BADVERS: 16, BADSIG: 16,
  BADKEY: 17, BADTIME: 18, BADMODE: 19, BADNAME: 20, BADALG: 21, BADTRUNC: 22, BADCOOKIE: 23,
} as const;
const rcodeNames = new Map<number, string>();
for (const [k, v] of Object.entries(Rcode)) if (!rcodeNames.has(v)) rcodeNames.set(v, k);

export function rcodeToString(rcode: number): string {
  return rcodeNames.get(rcode) ?? `RCODE${rcode}`;
}

export function rcodeFromString(text: string): number | undefined {
  return (Rcode as Record<string, number>)[text.toUpperCase()];
}

/** EDNS(0) option codes (IANA "DNS EDNS0 Option Codes"). */
export const EdnsOptionCode = {
  LLQ: 1, UL: 2, NSID: 3, DAU: 5, DHU: 6, N3U: 7, CLIENT_SUBNET: 8, EXPIRE: 9, COOKIE: 10,
  TCP_KEEPALIVE: 11, PADDING: 12, CHAIN: 13, KEY_TAG: 14, EDE: 15, CLIENT_TAG: 16,
  SERVER_TAG: 17, REPORT_CHANNEL: 18, ZONEVERSION: 19,
} as const;

/** Extended DNS Error info codes (RFC 8914 §4). */
export const EdeCode = {
  OTHER: 0, UNSUPPORTED_DNSKEY_ALGORITHM: 1, UNSUPPORTED_DS_DIGEST: 2, STALE_ANSWER: 3,
  FORGED_ANSWER: 4, DNSSEC_INDETERMINATE: 5, DNSSEC_BOGUS: 6, SIGNATURE_EXPIRED: 7,
  SIGNATURE_NOT_YET_VALID: 8, DNSKEY_MISSING: 9, RRSIGS_MISSING: 10, NO_ZONE_KEY_BIT_SET: 11,
  NSEC_MISSING: 12, CACHED_ERROR: 13, NOT_READY: 14, BLOCKED: 15, CENSORED: 16, FILTERED: 17,
  PROHIBITED: 18, STALE_NXDOMAIN_ANSWER: 19, NOT_AUTHORITATIVE: 20, NOT_SUPPORTED: 21,
  NO_REACHABLE_AUTHORITY: 22, NETWORK_ERROR: 23, INVALID_DATA: 24, SIGNATURE_EXPIRED_BEFORE_VALID: 25,
  TOO_EARLY: 26, UNSUPPORTED_NSEC3_ITERATIONS: 27, UNABLE_TO_CONFORM_TO_POLICY: 28, SYNTHESIZED: 29,
  INVALID_QUERY_TYPE: 30,
} as const;
