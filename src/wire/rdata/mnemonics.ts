/**
 * Mnemonic tables that presentation formats accept in place of numbers: DNSSEC algorithms
 * (RFC 4034 Appendix A.1 and the IANA registry), CERT types (RFC 4398 §2.1), the TSIG error
 * names, WKS protocols and a few well-known services.
 */

/** DNSSEC algorithm numbers by mnemonic (IANA "DNS Security Algorithm Numbers"). */
export const DnssecAlgorithm = {
  RSAMD5: 1, DH: 2, DSA: 3, ECC: 4, RSASHA1: 5, 'DSA-NSEC3-SHA1': 6, 'RSASHA1-NSEC3-SHA1': 7,
  RSASHA256: 8, RSASHA512: 10, 'ECC-GOST': 12, ECDSAP256SHA256: 13, ECDSAP384SHA384: 14,
  ED25519: 15, ED448: 16, INDIRECT: 252, PRIVATEDNS: 253, PRIVATEOID: 254,
} as const;

/** CERT certificate types (RFC 4398 §2.1). */
export const CertType = {
  PKIX: 1, SPKI: 2, PGP: 3, IPKIX: 4, ISPKI: 5, IPGP: 6, ACPKIX: 7, IACPKIX: 8, URI: 253, OID: 254,
} as const;

const certTypeNames = new Map<number, string>(Object.entries(CertType).map(([k, v]) => [v, k]));

export function certTypeToString(v: number): string {
  return certTypeNames.get(v) ?? String(v);
}

function lookup(table: Record<string, number>, text: string): number | undefined {
  return table[text.toUpperCase()];
}

export function algorithmFromString(text: string): number | undefined {
  return lookup(DnssecAlgorithm, text);
}

export function certTypeFromString(text: string): number | undefined {
  return lookup(CertType, text);
}

/** TSIG / TKEY error field (RFC 8945 §3; 16 is BADSIG here, not BADVERS). */
const tsigErrors: Record<string, number> = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6,
  YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10, BADSIG: 16, BADKEY: 17, BADTIME: 18,
  BADMODE: 19, BADNAME: 20, BADALG: 21, BADTRUNC: 22, BADCOOKIE: 23,
};
const tsigErrorNames = new Map<number, string>(Object.entries(tsigErrors).map(([k, v]) => [v, k]));

export function tsigErrorToString(v: number): string {
  return tsigErrorNames.get(v) ?? String(v);
}

export function tsigErrorFromString(text: string): number | undefined {
  return lookup(tsigErrors, text);
}

/** WKS protocol names (the two that matter; others by number). */
export const WksProtocol: Record<string, number> = { ICMP: 1, TCP: 6, UDP: 17 };

/** Well-known service names accepted in WKS bitmaps (a small /etc/services subset). */
export const WksService: Record<string, number> = {
  echo: 7, discard: 9, daytime: 13, ftp: 21, ssh: 22, telnet: 23, smtp: 25, time: 37, whois: 43,
  domain: 53, tftp: 69, gopher: 70, finger: 79, http: 80, kerberos: 88, pop3: 110, sunrpc: 111,
  auth: 113, nntp: 119, ntp: 123, imap: 143, snmp: 161, ldap: 389, https: 443, submission: 587,
};
