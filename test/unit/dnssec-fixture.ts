// A zone with every shape the signer must get right: apex data, a wildcard, empty non-terminals,
// a secure (DS) and an insecure delegation with glue, data occluded below a cut, a CNAME and a
// DNAME. Shared by the signer and denial tests.
import { Name, RRType, type ResourceRecord } from '../../src/wire/index.js';
import { parseZoneText } from '../../src/zone/parser.js';
import type { ZoneKey } from '../../src/dnssec/keys.js';
import { verifyRrsig } from '../../src/dnssec/verify.js';
import { keyTag } from '../../src/dnssec/keytag.js';
import type { DnskeyData, RrsigData } from '../../src/dnssec/types.js';

export const ORIGIN = Name.parse('example.test.');

export const ZONE_TEXT = `
$ORIGIN example.test.
$TTL 3600
@            IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@            NS    ns1
@            NS    ns2.other.test.
@            MX    10 mail
ns1          A     192.0.2.1
mail         A     192.0.2.2
www          A     192.0.2.3
www          AAAA  2001:db8::3
*.wild       TXT   "wild"
*.wild       MX    10 mail
a.b.c.ent    A     192.0.2.4
secure       NS    ns.secure
secure       DS    12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.secure    A     192.0.2.5
insecure     NS    ns.insecure
ns.insecure  A     192.0.2.6
ns.insecure  AAAA  2001:db8::6
deep.x.insecure A  192.0.2.7
alias        CNAME www
dn           DNAME example.net.
`;

export function fixtureRecords(): ResourceRecord[] {
  return parseZoneText(ZONE_TEXT, { origin: ORIGIN });
}

/** Names the signer must chain and sign (authoritative, cuts), and those it must leave alone. */
export const AUTHORITATIVE = ['example.test.', 'ns1.example.test.', 'mail.example.test.', 'www.example.test.', '*.wild.example.test.', 'a.b.c.ent.example.test.', 'alias.example.test.', 'dn.example.test.'];
export const CUTS = ['secure.example.test.', 'insecure.example.test.'];
export const ENTS = ['wild.example.test.', 'b.c.ent.example.test.', 'c.ent.example.test.', 'ent.example.test.'];
export const OCCLUDED = ['ns.secure.example.test.', 'ns.insecure.example.test.', 'deep.x.insecure.example.test.', 'x.insecure.example.test.'];

/** RRsets of `records` keyed `owner/type` (RRSIGs keyed by the type they cover, under `sig:`). */
export function groupSets(records: readonly ResourceRecord[]): Map<string, ResourceRecord[]> {
  const out = new Map<string, ResourceRecord[]>();
  for (const rr of records) {
    const k = rr.type === RRType.RRSIG ? `sig:${rr.name.key}/${(rr.data as RrsigData).typeCovered}` : `${rr.name.key}/${rr.type}`;
    let l = out.get(k);
    if (!l) out.set(k, (l = []));
    l.push(rr);
  }
  return out;
}

/** Checks every RRSIG in `records` against the apex DNSKEYs; returns the failures as text. */
export function verifyAll(records: readonly ResourceRecord[], origin: Name, now: number): { verified: number; failures: string[] } {
  const sets = groupSets(records);
  const dnskeys = (sets.get(`${origin.key}/${RRType.DNSKEY}`) ?? []).map((r) => r.data as DnskeyData);
  let verified = 0;
  const failures: string[] = [];
  for (const [k, sigs] of sets) {
    if (!k.startsWith('sig:')) continue;
    const rrset = sets.get(k.slice(4));
    for (const sig of sigs) {
      const d = sig.data as RrsigData;
      if (!rrset) {
        failures.push(`${k}: RRSIG without an RRset`);
        continue;
      }
      const key = dnskeys.find((dk) => dk.algorithm === d.algorithm && keyTag(dk) === d.keyTag);
      if (!key) {
        failures.push(`${k}: no DNSKEY with tag ${d.keyTag}`);
        continue;
      }
      const r = verifyRrsig(rrset, d, origin, key, now);
      if (r.ok) verified++;
      else failures.push(`${k}: ${r.reason}`);
    }
  }
  return { verified, failures };
}


/** Which keys made the RRSIGs over `owner/type`. */
export function signerTags(records: readonly ResourceRecord[], owner: string, type: number): number[] {
  return records
    .filter((r) => r.type === RRType.RRSIG && r.name.key === owner && (r.data as RrsigData).typeCovered === type)
    .map((r) => (r.data as RrsigData).keyTag)
    .sort((a, b) => a - b);
}

export const tags = (keys: readonly ZoneKey[]): number[] => keys.map((k) => k.tag).sort((a, b) => a - b);
