// The zones the authoritative differential test serves from Portcullis, NSD and Knot. They are
// written to exercise each step of RFC 1034 4.3.2 (exact match, referral, CNAME, wildcard),
// empty non-terminals, DNAME, truncation and unknown types, in plain master-file syntax that
// all three servers read. Generated parts (large RRsets) are built here so the counts are clear.

/** 25 TXT records of 100 characters: about 2.8 kB, so it truncates at 512 and 1232 bytes. */
const bigTxt = Array.from({ length: 25 }, (_, i) => `big TXT "${String(i).padStart(2, '0')}${'x'.repeat(98)}"`);
/** 40 A records under one name: ~680 bytes, truncates only without EDNS. */
const manyA = Array.from({ length: 40 }, (_, i) => `many A 192.0.2.${100 + i}`);

export const DIFF_ORIGIN = 'diff.test.';
export const OTHER_ORIGIN = 'other.test.';

export const diffZoneText = [
  '$ORIGIN diff.test.',
  '$TTL 3600',
  '@ IN SOA ns1 hostmaster 2024010101 3600 900 604800 300',
  '@ IN NS ns1',
  '@ IN NS ns2.other.test.',
  '@ IN MX 10 mail',
  '@ IN MX 20 mail.other.test.',
  '@ IN A 192.0.2.1',
  '@ IN TXT "v=spf1 -all"',
  'ns1 IN A 192.0.2.53',
  'ns1 IN AAAA 2001:db8::53',
  'mail 300 IN A 192.0.2.25',
  'mail 300 IN AAAA 2001:db8::25',
  'www IN A 192.0.2.80',
  'www IN AAAA 2001:db8::80',
  'www IN TXT "hello" "world"',
  'MixedCase IN A 192.0.2.81',
  'txt IN TXT "semi;colon" "quote\\"d" "back\\\\slash" "\\010\\255"',
  'txt IN TXT ""',
  ...bigTxt,
  ...manyA,
  // CNAME chains (RFC 1034 3.6.2, 4.3.2 step 3a; RFC 2181 10.1)
  'c1 IN CNAME c2',
  'c2 IN CNAME c3',
  'c3 IN CNAME www',
  'cmail IN CNAME mail',
  'cext IN CNAME www.other.test.',
  'cfar IN CNAME www.example.net.',
  'cnx IN CNAME nowhere',
  'cwild IN CNAME foo.wild',
  'cdeleg IN CNAME host.sub',
  'cent IN CNAME b.ent',
  'loop1 IN CNAME loop2',
  'loop2 IN CNAME loop1',
  // Wildcards (RFC 4592)
  '*.wild IN A 192.0.2.100',
  '*.wild IN TXT "wildcard"',
  '*.wild IN MX 10 mail',
  'explicit.wild IN A 192.0.2.101',
  'deep.below.wild IN A 192.0.2.102',
  '*.cw IN CNAME www',
  '*.cwnx IN CNAME nothing-here',
  // Empty non-terminals (RFC 8020, RFC 4592 2.2.2): ent and b.ent exist only as parents
  'a.b.ent IN A 192.0.2.30',
  '*.ent IN A 192.0.2.31',
  'x.y.z.deepent IN TXT "deep"',
  // Delegations with in-bailiwick glue, DS, an unsigned one, an out-of-bailiwick one (RFC 1034 4.3.2 step 3b, RFC 9471)
  'sub IN NS ns.sub',
  'sub IN NS ns.other.test.',
  'sub IN DS \\# 36 3039080259B1C9A0B1D1E6AB4A6E1C3CF2F8ADE8C8D0EB7D3DDA01EB1C7E1A7D77AA1D66',
  'ns.sub IN A 192.0.2.60',
  'ns.sub IN AAAA 2001:db8::60',
  'occluded.sub IN A 192.0.2.99',
  'nosec IN NS ns.nosec',
  'nosec IN NS ns1',
  'ns.nosec IN A 192.0.2.61',
  'ext IN NS ns1.example.net.',
  'ext IN NS ns2.example.net.',
  'a.b.entdeleg IN NS ns1',
  // DNAME (RFC 6672)
  'dn IN DNAME other.test.',
  'dnin IN DNAME target',
  'dnin IN A 192.0.2.71',
  'target IN A 192.0.2.70',
  'x.target IN A 192.0.2.72',
  'x.target IN TXT "x"',
  // Unknown types (RFC 3597)
  'unk IN TYPE65280 \\# 4 01020304',
  'unk IN TYPE65281 \\# 0',
  '',
].join('\n');

export const otherZoneText = [
  '$ORIGIN other.test.',
  '$TTL 7200',
  '@ IN SOA ns2 hostmaster 7 3600 900 604800 600',
  '@ IN NS ns2',
  '@ IN NS ns1.diff.test.',
  'ns2 IN A 198.51.100.53',
  'ns IN A 198.51.100.60',
  'www IN A 198.51.100.80',
  'www IN AAAA 2001:db8:100::80',
  '*.w IN TXT "other wildcard"',
  '',
].join('\n');

export const diffZones = [
  { name: 'diff.test', text: diffZoneText },
  { name: 'other.test', text: otherZoneText },
];
