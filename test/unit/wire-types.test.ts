// Every record type: presentation text beside its RDATA hex (from the RFC examples, worked out
// by hand from the RFC layouts, or checked against the dns-packet oracle), then text -> wire ->
// text identity, canonical form and compression rules, and the error paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import {
  Name, RRClass, RRType, TextError, Tokens, WireError, WireReader, codecFor, decodeMessage, decodeRdata, encodeMessage,
  encodeRdata, hasCodec, makeMessage, rdataFromText, rdataToText, readRecord, recordFromText, recordToText, typeFromString,
  svcbAlpn, svcbIpv4Hint, svcbPort, type SvcbData, canonicalIPv4, canonicalIPv6, formatIPv4, formatIPv6, parseIPv4, parseIPv6,
} from '../../src/wire/index.js';

const origin = Name.parse('example.');
const clean = (h: string): string => h.replace(/\s+/g, '').toLowerCase();
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const b64 = (s: string): string => Buffer.from(s, 'base64').toString('hex');
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
const u8 = (n: number): string => n.toString(16).padStart(2, '0');
const u16 = (n: number): string => n.toString(16).padStart(4, '0');
const u32 = (n: number): string => n.toString(16).padStart(8, '0');
/** Uncompressed wire name, written out label by label. */
const wname = (text: string): string => (text === '.' ? '00' : text.replace(/\.$/, '').split('.').map((l) => u8(l.length) + ascii(l)).join('') + '00');
/** dns-packet's per-type encoder output without its RDLENGTH prefix. */
const oracle = (type: string, data: unknown): string => hexOf((dnsPacket as any)[type.toLowerCase()].encode(data).subarray(2));

interface Case {
  /** `TYPE RDATA`, relative names resolve against `example.`. */
  text: string;
  /** Expected RDATA. */
  hex: string;
  /** Our presentation when it differs from `text` (canonical spelling). */
  out?: string;
  /** Same hex from dns-packet, when it knows the type. */
  oracle?: string;
}

const KEY = 'AQPSKmynfzW4kyBv015MUG2DeIQ3Cbl+BBZH4b/0PY1kxkmvHjcZc8nokfzj31GajIQKY+5CptLr3buXA10hWqTkF7H6RfoRqXQeogmMHfpftf6zMv1LyBUgia7za6ZEzOJBOztyvhjL742iU/TpPSEDhm2SNKLijfUppn1UaNvv4w==';
const SIG = 'oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=';
const HIT = '200100107B1A74DF365639CC39F1D578';
const HIPKEY = 'AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D';
const IPSK = 'AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==';
const DIG = '2BB183AF5F22588179A53B0A98631FAD1A292118';
const ZMD = 'C68090D90A7AED716BC459F9340E3D7C1370D4D24B7E2FC3A1DDC0B9A87153B9A9713B3C9AE5CC27777F98B8E730044C';

const cases: Case[] = [
  { text: 'A 192.0.2.1', hex: 'c0000201', oracle: oracle('A', '192.0.2.1') },
  { text: 'AAAA 2001:db8::1', hex: '20010db8000000000000000000000001', oracle: oracle('AAAA', '2001:db8::1') },
  { text: 'NS ns1.example.', hex: wname('ns1.example.'), oracle: oracle('NS', 'ns1.example.') },
  { text: 'CNAME www', out: 'CNAME www.example.', hex: wname('www.example.'), oracle: oracle('CNAME', 'www.example') },
  { text: 'DNAME target.test.', hex: wname('target.test.'), oracle: oracle('DNAME', 'target.test') },
  { text: 'PTR host.example.', hex: wname('host.example.'), oracle: oracle('PTR', 'host.example') },
  {
    text: 'SOA ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 300',
    hex: wname('ns1.example.') + wname('hostmaster.example.') + u32(2024010101) + u32(7200) + u32(3600) + u32(1209600) + u32(300),
    oracle: oracle('SOA', { mname: 'ns1.example', rname: 'hostmaster.example', serial: 2024010101, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300 }),
  },
  { text: 'MX 10 mail.example.', hex: '000a' + wname('mail.example.'), oracle: oracle('MX', { preference: 10, exchange: 'mail.example' }) },
  { text: 'TXT "hello world" "x"', hex: '0b' + ascii('hello world') + '0178', oracle: oracle('TXT', ['hello world', 'x']) },
  { text: 'SPF "v=spf1 -all"', hex: '0b' + ascii('v=spf1 -all') },
  { text: 'HINFO "Generic PC clone" "NetBSD-1.4"', hex: '10' + ascii('Generic PC clone') + '0a' + ascii('NetBSD-1.4'), oracle: oracle('HINFO', { cpu: 'Generic PC clone', os: 'NetBSD-1.4' }) },
  { text: 'RP mbox.example. txt.example.', hex: wname('mbox.example.') + wname('txt.example.'), oracle: oracle('RP', { mbox: 'mbox.example', txt: 'txt.example' }) },
  { text: 'AFSDB 1 afs.example.', hex: '0001' + wname('afs.example.') },
  { text: 'MB mb.example.', hex: wname('mb.example.') },
  { text: 'MG mg.example.', hex: wname('mg.example.') },
  { text: 'MR mr.example.', hex: wname('mr.example.') },
  { text: 'MD md.example.', hex: wname('md.example.') },
  { text: 'MF mf.example.', hex: wname('mf.example.') },
  { text: 'MINFO rmail.example. email.example.', hex: wname('rmail.example.') + wname('email.example.') },
  { text: 'X25 "311061700956"', hex: '0c' + ascii('311061700956') },
  { text: 'ISDN "150862028003217" "004"', hex: '0f' + ascii('150862028003217') + '03' + ascii('004') },
  { text: 'ISDN "150862028003217"', hex: '0f' + ascii('150862028003217') },
  { text: 'RT 10 relay.example.', hex: '000a' + wname('relay.example.') },
  { text: 'NSAP 0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00', out: 'NSAP 0x47000580005a0000000001e133ffffff00016100', hex: '47000580005a0000000001e133ffffff00016100' },
  { text: 'NSAP-PTR host.example.', hex: wname('host.example.') },
  { text: 'PX 10 net2.it. PRMD-net2.ADMD-p400.C-it.', hex: '000a' + wname('net2.it.') + wname('PRMD-net2.ADMD-p400.C-it.') },
  { text: 'GPOS "-22.6882" "116.8652" "250.0"', hex: '08' + ascii('-22.6882') + '08' + ascii('116.8652') + '05' + ascii('250.0') },
  { text: 'SRV 0 5 5060 sip.example.', hex: '0000' + '0005' + '13c4' + wname('sip.example.'), oracle: oracle('SRV', { priority: 0, weight: 5, port: 5060, target: 'sip.example' }) },
  {
    text: 'NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.example.',
    hex: '0064000a' + '0153' + '07' + ascii('SIP+D2U') + '00' + wname('_sip._udp.example.'),
    oracle: oracle('NAPTR', { order: 100, preference: 10, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example' }),
  },
  { text: 'KX 10 kx.example.', hex: '000a' + wname('kx.example.') },
  { text: 'CERT PGP 0 0 AQID', hex: '0003' + '0000' + '00' + '010203' },
  { text: 'CERT 6 0 0 AQID', out: 'CERT IPGP 0 0 AQID', hex: '0006000000010203' },
  // RFC 2874 §3.1.1 style: 64-bit suffix, then the prefix name.
  { text: 'A6 64 ::1 prefix.example.', hex: '40' + '0000000000000001' + wname('prefix.example.') },
  { text: 'A6 0 2001:db8::1', hex: '00' + '20010db8000000000000000000000001' },
  // RFC 3123 §4 example.
  { text: 'APL 1:192.168.32.0/21 !1:192.168.38.0/28', hex: '0001' + '15' + '03' + 'c0a820' + '0001' + '1c' + '83' + 'c0a826' },
  { text: 'APL 2:FF00:0:0:0:0:0:0:0/8', out: 'APL 2:ff00::/8', hex: '0002' + '08' + '01' + 'ff' },
  // RFC 4034 §5.4.
  { text: `DS 60485 5 1 ${DIG}`, hex: 'ec45' + '05' + '01' + DIG, oracle: oracle('DS', { keyTag: 60485, algorithm: 5, digestType: 1, digest: Buffer.from(DIG, 'hex') }) },
  { text: `CDS 60485 5 1 ${DIG}`, hex: 'ec450501' + DIG },
  { text: `DLV 60485 5 1 ${DIG}`, hex: 'ec450501' + DIG },
  { text: `TA 60485 5 1 ${DIG}`, hex: 'ec450501' + DIG },
  { text: `DS 60485 RSASHA1 1 ${DIG.toLowerCase()}`, out: `DS 60485 5 1 ${DIG}`, hex: 'ec450501' + DIG },
  { text: 'SSHFP 2 1 123456789abcdef67890123456789abcdef67890', out: 'SSHFP 2 1 123456789ABCDEF67890123456789ABCDEF67890', hex: '0201123456789abcdef67890123456789abcdef67890' },
  // RFC 4034 §2.3.
  { text: `DNSKEY 256 3 5 ${KEY}`, hex: '0100' + '03' + '05' + b64(KEY), oracle: oracle('DNSKEY', { flags: 256, algorithm: 5, key: Buffer.from(KEY, 'base64') }) },
  { text: `CDNSKEY 257 3 8 ${KEY}`, hex: '0101' + '03' + '08' + b64(KEY) },
  { text: `KEY 256 3 5 ${KEY}`, hex: '01000305' + b64(KEY) },
  { text: `RKEY 0 1 8 ${KEY}`, hex: '00000108' + b64(KEY) },
  // RFC 4034 §3.3: times 2003-03-22 17:31:03 and 2003-02-20 17:31:03 UTC.
  {
    text: `RRSIG A 5 3 86400 20030322173103 20030220173103 2642 example.com. ${SIG}`,
    hex: '0001' + '05' + '03' + u32(86400) + u32(Date.UTC(2003, 2, 22, 17, 31, 3) / 1000) + u32(Date.UTC(2003, 1, 20, 17, 31, 3) / 1000) + u16(2642) + wname('example.com.') + b64(SIG),
    oracle: oracle('RRSIG', { typeCovered: 'A', algorithm: 5, labels: 3, originalTTL: 86400, expiration: Date.UTC(2003, 2, 22, 17, 31, 3) / 1000, inception: Date.UTC(2003, 1, 20, 17, 31, 3) / 1000, keyTag: 2642, signersName: 'example.com', signature: Buffer.from(SIG, 'base64') }),
  },
  {
    text: `SIG NXT 1 3 3600 1577836800 1041379200 2143 foo.example. ${SIG}`,
    out: `SIG NXT 1 3 3600 20200101000000 20030101000000 2143 foo.example. ${SIG}`,
    hex: '001e' + '01' + '03' + u32(3600) + u32(1577836800) + u32(1041379200) + u16(2143) + wname('foo.example.') + b64(SIG),
  },
  // RFC 4034 §4.3, hex given there.
  {
    text: 'NSEC host.example.com. A MX RRSIG NSEC TYPE1234',
    hex: wname('host.example.com.') + '0006400100000003' + '041b' + '00'.repeat(26) + '20',
  },
  { text: 'NXT next.example. A NS SOA MX', hex: wname('next.example.') + '6201' },
  { text: 'NSEC3 1 0 0 - 00000000 A', hex: '01' + '00' + '0000' + '00' + '05' + '0000000000' + '000140' },
  { text: 'NSEC3 1 1 12 AABBCCDD vvvvvvvv NS SOA', hex: '0101000c04aabbccdd05ffffffffff' + '000122' },
  { text: 'NSEC3PARAM 1 0 10 AABB', hex: '0100000a02aabb' },
  { text: 'NSEC3PARAM 1 0 0 -', hex: '0100000000' },
  // RFC 7477 §2.1.
  { text: 'CSYNC 66 3 A NS AAAA', hex: u32(66) + '0003' + '0004' + '60000008' },
  // RFC 8976 Appendix A.1.
  { text: `ZONEMD 2018031900 1 1 ${ZMD}`, hex: u32(2018031900) + '01' + '01' + ZMD },
  { text: 'TLSA 3 1 1 A9CDF989B504FE5DCA90C0D2167B6550570734F7C763E09FDF88904E06157065', hex: '030101a9cdf989b504fe5dca90c0d2167b6550570734f7c763e09fdf88904e06157065' },
  { text: 'SMIMEA 1 0 1 EFDDF0D915C7BDC5782C0881E1B2A95AD099FBDD06D7B1F77982D9364338D955', hex: '010001efddf0d915c7bdc5782c0881e1b2a95ad099fbdd06d7b1f77982d9364338d955' },
  { text: 'OPENPGPKEY AQID BAU=', out: 'OPENPGPKEY AQIDBAU=', hex: '0102030405' },
  // RFC 4701 §3.6.
  { text: 'DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=', hex: b64('AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=') },
  // RFC 4025 §3.3 examples.
  { text: `IPSECKEY 10 1 2 192.0.2.38 ${IPSK}`, hex: '0a0102c0000226' + b64(IPSK) },
  { text: `IPSECKEY 10 0 2 . ${IPSK}`, hex: '0a0002' + b64(IPSK) },
  { text: `IPSECKEY 10 2 2 2001:0DB8:0:8002::2000:1 ${IPSK}`, out: `IPSECKEY 10 2 2 2001:db8:0:8002::2000:1 ${IPSK}`, hex: '0a020220010db8000080020000000020000001' + b64(IPSK) },
  { text: `IPSECKEY 10 3 2 gw.example. ${IPSK}`, hex: '0a0302' + wname('gw.example.') + b64(IPSK) },
  // RFC 8005 §6.
  { text: `HIP 2 ${HIT} ${HIPKEY} rvs.example.com.`, hex: '10' + '02' + u16(Buffer.from(HIPKEY, 'base64').length) + HIT + b64(HIPKEY) + wname('rvs.example.com.') },
  // RFC 7043 §3.2, §4.2.
  { text: 'EUI48 00-00-5e-00-53-2a', hex: '00005e00532a' },
  { text: 'EUI64 00-00-5E-EF-10-00-00-2A', out: 'EUI64 00-00-5e-ef-10-00-00-2a', hex: '00005eef1000002a' },
  // RFC 6742 §2-5 examples.
  { text: 'NID 10 0014:4fff:ff20:ee64', hex: '000a00144fffff20ee64' },
  { text: 'L32 10 10.1.2.0', hex: '000a0a010200' },
  { text: 'L64 10 2001:0DB8:1140:1000', out: 'L64 10 2001:0db8:1140:1000', hex: '000a20010db811401000' },
  { text: 'LP 10 l64-subnet1.example.com.', hex: '000a' + wname('l64-subnet1.example.com.') },
  // RFC 7553 §4.5.
  { text: 'URI 10 1 "ftp://ftp1.example.com/public"', hex: '000a0001' + ascii('ftp://ftp1.example.com/public') },
  // RFC 8659 §4.
  { text: 'CAA 0 issue "ca.example.net"', hex: '0005' + ascii('issue') + ascii('ca.example.net'), oracle: oracle('CAA', { flags: 0, tag: 'issue', value: 'ca.example.net' }) },
  { text: 'CAA 128 tbs "Unknown"', hex: '8003' + ascii('tbs') + ascii('Unknown') },
  // RFC 8777 §5.
  { text: 'AMTRELAY 10 0 1 203.0.113.15', hex: '0a01cb00710f' },
  { text: 'AMTRELAY 10 0 2 2001:db8::15', hex: '0a0220010db8000000000000000000000015' },
  { text: 'AMTRELAY 128 1 3 amtrelays.example.com.', hex: '8083' + wname('amtrelays.example.com.') },
  { text: 'AMTRELAY 0 0 0 .', hex: '0000' },
  // RFC 1035 §3.4.2: ports 25 and 80 set in the bitmap.
  { text: 'WKS 192.0.2.1 tcp smtp 80', out: 'WKS 192.0.2.1 6 25 80', hex: 'c000020106' + '00000040' + '000000000000' + '80' },
  // RFC 1876: 42°21'54"N 71°06'18"W, -24 m, size 30 m, defaults hp 10000 m, vp 10 m.
  {
    text: 'LOC 42 21 54 N 71 06 18 W -24m 30m',
    out: 'LOC 42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m',
    hex: '00' + '33' + '16' + '13' + u32(2 ** 31 + (42 * 3600 + 21 * 60 + 54) * 1000) + u32(2 ** 31 - (71 * 3600 + 6 * 60 + 18) * 1000) + u32(10_000_000 - 2400),
  },
  { text: 'LOC 0 S 0 E 0.1m 0.1m 0.1m 0.1m', out: 'LOC 0 0 0.000 N 0 0 0.000 E 0.10m 0.10m 0.10m 0.10m', hex: '00111111' + u32(2 ** 31) + u32(2 ** 31) + u32(10_000_010) },
  // RFC 9460 Appendix D.2.
  { text: 'SVCB 1 foo.example.com. port=53', hex: '0001' + wname('foo.example.com.') + '0003' + '0002' + '0035' },
  { text: 'HTTPS 1 . alpn=h2 port=8443', out: 'HTTPS 1 . alpn="h2" port=8443', hex: '0001' + '00' + '0001' + '0003' + '026832' + '0003' + '0002' + '20fb' },
  { text: 'HTTPS 0 svc.example.', hex: '0000' + wname('svc.example.') },
  { text: 'HTTPS 1 . alpn=h3 no-default-alpn ech=AQID ipv6hint=2001:db8::1', out: 'HTTPS 1 . alpn="h3" no-default-alpn ech=AQID ipv6hint=2001:db8::1', hex: '000100' + '0001000302' + ascii('h3') + '00020000' + '00050003010203' + '00060010' + '20010db8000000000000000000000001' },
  { text: 'SVCB 1 . dohpath="/dns-query{?dns}" ohttp', hex: '000100' + '0007' + u16(16) + ascii('/dns-query{?dns}') + '00080000' },
  { text: 'NINFO "This zone is experimental."', hex: '1a' + ascii('This zone is experimental.') },
  { text: 'TALINK h0.example.com. h1.example.com.', hex: wname('h0.example.com.') + wname('h1.example.com.') },
  // RFC 8945 §4.2 layout.
  {
    text: 'TSIG hmac-sha256. 1700000000 300 4 AQIDBA== 4660 NOERROR 0',
    hex: wname('hmac-sha256.') + '0000' + u32(1700000000) + '012c' + '0004' + '01020304' + '1234' + '0000' + '0000',
  },
  { text: 'TSIG hmac-md5.sig-alg.reg.int. 1480585449 300 0 59692 BADSIG 0', hex: wname('hmac-md5.sig-alg.reg.int.') + '0000' + u32(1480585449) + '012c' + '0000' + u16(59692) + '0010' + '0000' },
  {
    text: 'TKEY gss.example. 20240101000000 20240102000000 3 NOERROR 2 AQI= 0',
    hex: wname('gss.example.') + u32(Date.UTC(2024, 0, 1) / 1000) + u32(Date.UTC(2024, 0, 2) / 1000) + '0003' + '0000' + '0002' + '0102' + '0000',
  },
  { text: 'ATMA 39.246f.00.0e7c9c.0312.0001.0001.000012345678.00', out: 'ATMA 39246F000E7C9C03120001000100001234567800', hex: '00' + '39246f000e7c9c03120001000100001234567800' },
  { text: 'ATMA +1.908.555.1212', out: 'ATMA +19085551212', hex: '01' + ascii('19085551212') },
  // RFC 3597 §5: unknown types and known types in generic form.
  { text: 'TYPE65280 \\# 2 abcd', out: 'TYPE65280 \\# 2 ABCD', hex: 'abcd' },
  { text: 'A \\# 4 c0000201', out: 'A 192.0.2.1', hex: 'c0000201' },
];

function parse(text: string): { type: number; data: unknown } {
  const rr = recordFromText(`x.example. 3600 IN ${text}`, origin);
  return { type: rr.type, data: rr.data };
}

test('every case: text encodes to the expected RDATA, which decodes and prints back', () => {
  for (const c of cases) {
    const { type, data } = parse(c.text);
    const wire = hexOf(encodeRdata(type, data));
    assert.equal(wire, clean(c.hex), c.text);
    if (c.oracle !== undefined) assert.equal(wire, c.oracle, `${c.text}: dns-packet oracle`);
    const back = decodeRdata(type, Buffer.from(wire, 'hex'));
    assert.ok(!(back instanceof Uint8Array) || !hasCodec(type), `${c.text}: registered codecs never return bare bytes`);
    const printed = `${c.text.split(' ')[0]} ${rdataToText(type, back)}`;
    assert.equal(printed, c.out ?? c.text, 'presentation');
    const again = parse(printed);
    assert.equal(hexOf(encodeRdata(type, again.data)), wire, `${printed}: text -> wire -> text is stable`);
  }
});

test('every type the brief lists has a codec, and each appears in the vector table', () => {
  const listed = `A AAAA NS CNAME DNAME SOA PTR MX TXT SPF HINFO RP AFSDB SRV NAPTR LOC CERT SSHFP TLSA SMIMEA OPENPGPKEY CAA URI SVCB HTTPS
    DS CDS DNSKEY CDNSKEY RRSIG NSEC NSEC3 NSEC3PARAM ZONEMD CSYNC TSIG OPT MINFO MB MG MR WKS X25 ISDN RT NSAP PX KX A6 DHCID IPSECKEY
    HIP APL EUI48 EUI64 L32 L64 LP NID KEY SIG DLV TA AMTRELAY NXT NSAP-PTR GPOS MD MF TKEY ATMA NINFO RKEY TALINK`.split(/\s+/);
  const tested = new Set(cases.map((c) => typeFromString(c.text.split(' ')[0]!)));
  for (const m of listed) {
    const type = typeFromString(m)!;
    assert.ok(hasCodec(type), `${m} has a codec`);
    if (m !== 'OPT') assert.ok(tested.has(type), `${m} has a vector`);
  }
  assert.equal(hasCodec(RRType.NULL), false, 'NULL stays opaque (RFC 3597 form only)');
});

test('canonical form lower-cases names only for the RFC 4034 §6.2 / RFC 6840 §5.1 types', () => {
  const lowered: [string, string][] = [
    ['MX 10 MAIL.Example.', 'MX 10 mail.example.'],
    ['SRV 0 0 1 SIP.Example.', 'SRV 0 0 1 sip.example.'],
    ['RRSIG A 8 2 300 20240101000000 20230101000000 1 EXAMPLE. AQID', 'RRSIG A 8 2 300 20240101000000 20230101000000 1 example. AQID'],
    ['NAPTR 1 1 "" "" "" R.Example.', 'NAPTR 1 1 "" "" "" r.example.'],
    ['RP A.Example. B.Example.', 'RP a.example. b.example.'],
    ['PX 1 A.Example. B.Example.', 'PX 1 a.example. b.example.'],
    ['NXT N.Example. A', 'NXT n.example. A'],
    ['A6 64 ::1 P.Example.', 'A6 64 ::1 p.example.'],
    ['SOA NS.Example. H.Example. 1 2 3 4 5', 'SOA ns.example. h.example. 1 2 3 4 5'],
    ['MINFO A.Example. B.Example.', 'MINFO a.example. b.example.'],
    ['KX 1 K.Example.', 'KX 1 k.example.'],
  ];
  for (const [text, lower] of lowered) {
    const { type, data } = parse(text);
    const want = parse(lower);
    assert.equal(hexOf(encodeRdata(type, data, true)), hexOf(encodeRdata(type, want.data, false)), `${text}: lower-cased`);
    assert.notEqual(hexOf(encodeRdata(type, data, true)), hexOf(encodeRdata(type, data, false)), `${text}: differs from the plain form`);
  }
  const kept = ['NSEC Next.Example. A', 'LP 1 L.Example.', 'SVCB 1 Svc.Example.', 'TALINK A.Example. B.Example.', 'IPSECKEY 1 3 2 GW.Example. AQID', 'HIP 2 AA AQID RVS.Example.', 'AMTRELAY 1 0 3 R.Example.', 'TSIG HMAC.Example. 1 1 0 1 0 0'];
  for (const text of kept) {
    const { type, data } = parse(text);
    assert.equal(hexOf(encodeRdata(type, data, true)), hexOf(encodeRdata(type, data, false)), `${text}: case kept`);
  }
});

test('names compress only in the RFC 1035 types (RFC 3597 §4)', () => {
  const msg = (text: string) => makeMessage({ qr: true, question: [{ name: origin, type: RRType.ANY, class: RRClass.IN }], answer: [recordFromText(`@ 300 IN ${text}`, origin)] });
  const cases: [string, string, boolean][] = [
    ['MX 10 mail.example.', 'mail.example.', true],
    ['NS ns.example.', 'ns.example.', true],
    ['MINFO a.example. b.example.', 'b.example.', true],
    ['SOA ns.example. h.example. 1 2 3 4 5', 'h.example.', true],
    ['SRV 0 0 1 sip.example.', 'sip.example.', false],
    ['AFSDB 1 afs.example.', 'afs.example.', false],
    ['NAPTR 1 1 "" "" "" r.example.', 'r.example.', false],
    ['RRSIG A 8 2 300 20240101000000 20230101000000 1 example. AQID', 'example.', false],
    ['SVCB 1 svc.example.', 'svc.example.', false],
    ['NSEC next.example. A', 'next.example.', false],
  ];
  for (const [text, target, compressed] of cases) {
    const wire = encodeMessage(msg(text));
    // Question at 12; the answer's owner is a 2-byte pointer, then 10 bytes of type/class/TTL/RDLENGTH.
    const rdata = hexOf(wire.subarray(12 + origin.wireLength + 4 + 2 + 10));
    assert.equal(!rdata.includes(wname(target)), compressed, `${text}: compressed=${compressed}`);
    assert.equal(recordToText(decodeMessage(wire).answer[0]!), recordToText(msg(text).answer[0]!), `${text}: round trip`);
    const plain = encodeMessage(msg(text), { compress: false });
    assert.ok(hexOf(plain).includes(wname(target)), `${text}: compress:false writes the name out`);
  }
});

test('malformed text raises TextError at the offending token', () => {
  const bad: [string, RegExp][] = [
    ['MX 70000 mail.example.', /above 65535/],
    ['A 192.0.2', /not an IPv4/],
    ['DS 1 2 3 ABC', /hex/],
    ['DNSKEY 256 3 5 AQ$=', /base64/],
    ['RRSIG A 8 2 300 20241301000000 20230101000000 1 example. AQID', /YYYYMMDDHHmmSS/],
    ['NSEC next.example. A BOGUS', /unknown record type "BOGUS"/],
    ['NSEC3 1 0 0 - 0000000w A', /base32hex/],
    ['LOC 91 0 0 N 0 0 0 E 0m', /above 90|beyond 90/],
    ['LOC 42 21 54 X 71 6 18 W 0m', /expected N or S/],
    ['APL 3:1.2.3.4/8', /APL item/],
    ['APL 1:1.2.3.4/33', /prefix/],
    ['CAA 0 is-sue "x"', /letters and digits/],
    ['EUI48 00-00-5e-00-53', /EUI-48/],
    ['IPSECKEY 10 1 2 gw.example. AQID', /IPv4/],
    ['AMTRELAY 1 2 0 .', /0 or 1/],
    ['WKS 192.0.2.1 tcp nosuchservice', /unknown service/],
    ['TSIG hmac. 1 1 4 AQID 1 0 0', /length 4 but 3/],
    ['CERT NOPE 0 0 AQID', /unknown certificate type/],
    ['SSHFP 1', /missing/],
    ['TXT', /missing text/],
    ['MX 10 mail.example. extra', /unexpected "extra"/],
    ['TYPE65280 \\# 3 abcd', /length 3 but 2/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => parse(text), (e: unknown) => e instanceof TextError && re.test(e.reason) && e.line === 1 && e.col > 0, text);
  }
});

test('RFC 9460 Appendix D.3 failure cases and other SvcParam errors are TextErrors', () => {
  const bad: [string, RegExp][] = [
    ['1 foo.example.com. key123=abc key123=def', /twice/],
    ['1 foo.example.com. mandatory', /needs a value/],
    ['1 foo.example.com. alpn', /needs a value/],
    ['1 foo.example.com. port', /needs a value/],
    ['1 foo.example.com. ipv4hint', /needs a value/],
    ['1 foo.example.com. ipv6hint', /needs a value/],
    ['1 foo.example.com. alpn=h2 no-default-alpn=abc', /no value/],
    ['1 foo.example.com. mandatory=key123', /missing/],
    ['1 foo.example.com. mandatory=mandatory', /itself/],
    ['1 foo.example.com. mandatory=ipv4hint,ipv4hint ipv4hint=192.0.2.1', /twice/],
    ['1 foo.example.com. no-default-alpn', /needs alpn/],
    ['1 foo.example.com. port=65536', /port/],
    ['1 foo.example.com. ipv6hint=192.0.2.1', /IPv6/],
    ['1 foo.example.com. key65535=x', /unknown SvcParamKey/],
    ['1 foo.example.com. frobnicate=1', /unknown SvcParamKey/],
    ['1 foo.example.com. ohttp=1', /no value/],
    ['1 foo.example.com. alpn=h2,,h3', /1..255/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => rdataFromText(RRType.SVCB, Tokens.fromString(text), origin), (e: unknown) => e instanceof TextError && re.test(e.reason), text);
  }
  // Keys given out of order are sorted on the wire (Appendix D.2 last example but one).
  const d = rdataFromText(RRType.HTTPS, Tokens.fromString('1 . port=443 alpn=h3,h2 ipv4hint=192.0.2.1,192.0.2.2'), origin) as SvcbData;
  assert.deepEqual(d.params.map((p) => p.key), [1, 3, 4]);
  assert.deepEqual(svcbAlpn(d), ['h3', 'h2']);
  assert.equal(svcbPort(d), 443);
  assert.deepEqual(svcbIpv4Hint(d), ['192.0.2.1', '192.0.2.2']);
});

test('malformed RDATA raises WireError with an offset', () => {
  const bad: [number, string, RegExp][] = [
    [RRType.A, 'c00002', /4 bytes/],
    [RRType.MX, '000a', /name runs past|truncated/],
    [RRType.NSEC, wname('a.') + '0000', /window length 0/],
    [RRType.NSEC, wname('a.') + '00014000010140', /out of order/],
    [RRType.NSEC, wname('a.') + '00024000', /zero byte/],
    [RRType.NSEC3, '0100000000' + '00', /empty NSEC3/],
    [RRType.LOC, '01' + '00'.repeat(15), /version/],
    [RRType.LOC, '00a01613' + '00'.repeat(12), /mantissa/],
    [RRType.LOC, '00331613' + 'ffffffff' + '80000000' + '00989680', /latitude/],
    [RRType.APL, '0003080100', /family 3/],
    [RRType.APL, '0001210400000000', /prefix/],
    [RRType.SVCB, '000100' + '00030002' + '0035' + '00010003026832', /increasing/],
    [RRType.SVCB, '000100' + '00030001' + '35', /port must be 2 bytes/],
    [RRType.SVCB, '000100' + '00000002' + '0000', /itself/],
    [RRType.SVCB, '000100' + '00020001' + '00', /no value/],
    [RRType.SVCB, '000100' + '00010002' + '0300', /runs past|empty protocol/],
    [RRType.IPSECKEY, '0a0902', /type 9/],
    [RRType.AMTRELAY, '0a05', /type 5/],
    [RRType.HIP, '00020000', /empty HIT/],
    [RRType.CAA, '0000', /empty CAA tag/],
    [RRType.TSIG, wname('a.') + '00000000000000000010', /truncated/],
    [RRType.ATMA, '02aa', /format 2/],
  ];
  for (const [type, hex, re] of bad) {
    assert.throws(() => decodeRdata(type, Buffer.from(clean(hex), 'hex')), (e: unknown) => e instanceof WireError && re.test(e.message) && e.offset >= 0, `${codecFor(type).type} ${hex}`);
  }
});

test('a record inside a message decodes against the message buffer (pointers) and respects RDLENGTH', () => {
  const msg = makeMessage({ qr: true, question: [{ name: origin, type: RRType.MX, class: RRClass.IN }], answer: [recordFromText('@ 300 IN MX 10 mail', origin)] });
  const wire = encodeMessage(msg);
  const r = new WireReader(wire, 12 + origin.wireLength + 4);
  const rr = readRecord(r);
  assert.equal(recordToText(rr, origin), '@\t300\tIN\tMX\t10 mail.example.');
  // An RDLENGTH one byte short of the name must fail, not read past it.
  const cut = new Uint8Array(wire);
  const rdlenAt = 12 + origin.wireLength + 4 + 2 + 8;
  cut[rdlenAt + 1] = cut[rdlenAt + 1]! - 1;
  assert.throws(() => decodeMessage(cut), WireError);
});

test('canonicalIPv4 and the A codec agree with parseIPv4 (+ formatIPv4) on 100,000 generated texts', () => {
  let s = 7;
  const r = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff);
  const alphabet = '0123456789.0123456789..a 0';
  const cases = ['1.2.3.4', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1..3.4', '.1.2.3', '1.2.3.', '0001.2.3.4', '001.002.003.004', '192.168.100.200', '10.0.0.010', ''];
  for (let i = 0; i < 60_000; i++) {
    let t = '';
    for (let k = r() % 17; k > 0; k--) t += alphabet[r() % alphabet.length];
    cases.push(t);
  }
  for (let i = 0; i < 40_000; i++) cases.push([r() % 300, r() % 300, r() % 300, r() % 300].map((x) => (r() % 5 === 0 ? '0' : '') + x).join('.'));
  let valid = 0;
  for (const t of cases) {
    const b = parseIPv4(t);
    if (b) valid++;
    assert.equal(canonicalIPv4(t), b ? formatIPv4(b) : undefined, JSON.stringify(t));
    // The A codec writes the address as one number: the same four bytes, and a throw for a bad text.
    if (b) assert.equal(hexOf(encodeRdata(RRType.A, { address: t })), hexOf(b), JSON.stringify(t));
    else assert.throws(() => encodeRdata(RRType.A, { address: t }), JSON.stringify(t));
  }
  assert.ok(valid > 10_000, `${valid} valid addresses among ${cases.length}`);
  assert.equal(canonicalIPv4('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIPv4('010.000.000.001'), '10.0.0.1');
});

test('canonicalIPv6 and the AAAA codec agree with parseIPv6 + formatIPv6 on 100,000 generated texts', () => {
  let s = 11;
  const r = (): number => (s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff) >>> 8;
  const cases = [
    '::', '::1', '1::', '2001:db8::1', '2001:DB8::0:1', '2001:0db8:0000:0000:0000:0000:0000:0001', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7', ':::', '1:::2', '1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:', '::ffff:192.0.2.1', '::192.0.2.1', '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4::', '1.2.3.4', '::1.2.3', '::12345', 'fffff::', 'g::', '0:0:0:0:0:0:0:0', '1:0:0:1:0:0:0:1', '1:0:0:0:1:0:0:1',
    '0000:0000:0000:0000:0000:0000:255.255.255.255', '', ':', '::256.1.1.1', '::01.2.3.4',
  ];
  // Random strings over the address alphabet (mostly invalid) ...
  const alphabet = '0123456789abcdefABCDEF::::..g';
  for (let i = 0; i < 50_000; i++) {
    let t = '';
    for (let k = r() % 24; k > 0; k--) t += alphabet[r() % alphabet.length];
    cases.push(t);
  }
  // ... and real addresses written in many ways: zero runs, leading zeros, case, '::' anywhere,
  // an IPv4 tail, and a few broken on purpose.
  for (let i = 0; i < 50_000; i++) {
    const g = Array.from({ length: 8 }, () => (r() % 3 === 0 ? 0 : r() % 65536));
    let parts = g.map((x) => {
      let h = x.toString(16);
      if (r() % 4 === 0) h = h.padStart(1 + (r() % 4), '0');
      return r() % 3 === 0 ? h.toUpperCase() : h;
    });
    if (r() % 5 === 0) parts = [...parts.slice(0, 6), `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`];
    let t = parts.join(':');
    if (r() % 2 === 0) {
      const from = r() % parts.length;
      const to = Math.min(parts.length, from + (r() % 4));
      const zero = parts.slice(from, to).every((p) => /^0+$/.test(p));
      if (zero || r() % 8 === 0) t = parts.slice(0, from).join(':') + '::' + parts.slice(to).join(':');
    }
    if (r() % 40 === 0) t = t.replace(':', r() % 2 ? ':::' : '');
    cases.push(t);
  }
  let valid = 0;
  for (const t of cases) {
    const b = parseIPv6(t);
    if (b) valid++;
    assert.equal(canonicalIPv6(t), b ? formatIPv6(b) : undefined, JSON.stringify(t));
    if (b) assert.deepEqual(recordFromText(`x 300 IN AAAA ${t}`, origin).data, { address: formatIPv6(b) }, JSON.stringify(t));
    else assert.throws(() => recordFromText(`x 300 IN AAAA ${t}`, origin), JSON.stringify(t));
  }
  assert.ok(valid > 30_000, `${valid} valid addresses among ${cases.length}`);
  assert.equal(canonicalIPv6('2001:0DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'the first of two equal zero runs');
  assert.equal(canonicalIPv6('::ffff:192.0.2.1'), '::ffff:c000:201');
});
