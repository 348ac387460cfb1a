// Decoder fuzzing: mutated real messages carrying every record type. `decodeMessage` must return
// or throw WireError, nothing else; whatever it accepts must re-encode and decode to the same
// records. The generator is seeded (FUZZ_SEED to replay, FUZZ_ITERATIONS to run longer) so a
// failure prints the seed and the input that broke it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, RRClass, RRType, WireError, decodeMessage, encodeMessage, makeMessage, recordFromText, recordToText, type Message } from '../../src/wire/index.js';

const origin = Name.parse('fuzz.example.');

/** One record of every type with a codec, plus an unknown one. */
const RECORDS = `
@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@ NS ns1
@ NS ns2.other.test.
ns1 A 192.0.2.1
ns1 AAAA 2001:db8::1
www CNAME @
@ MX 10 mail
@ MX 20 mail.other.test.
@ TXT "v=spf1 -all" "second string"
@ SPF "v=spf1 -all"
@ HINFO "PC" "Linux"
@ RP admin.fuzz.example. txt
@ AFSDB 1 afs
@ MB mb
@ MG mg
@ MR mr
@ MD md
@ MF mf
@ MINFO rmail email
@ X25 "311061700956"
@ ISDN "150862028003217" "004"
@ RT 10 relay
@ NSAP 0x47000580005a0000000001e133ffffff00016100
@ NSAP-PTR host
@ PX 10 net2.it. PRMD-net2.ADMD-p400.C-it.
@ GPOS "-22.6882" "116.8652" "250.0"
_sip._udp SRV 0 5 5060 sip
@ NAPTR 100 10 "S" "SIP+D2U" "!^.*$!sip:info@example.test!" _sip._udp
@ KX 10 kx
@ CERT PGP 0 0 AQIDBAUGBwg=
@ A6 64 ::1 prefix
@ DNAME target.test.
@ APL 1:192.168.32.0/21 !1:192.168.38.0/28 2:ff00::/8
@ DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
@ CDS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
@ DLV 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
@ TA 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
@ SSHFP 2 1 123456789ABCDEF67890123456789ABCDEF67890
@ IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
@ IPSECKEY 10 3 2 gw AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
@ RRSIG A 8 2 300 20240101000000 20230101000000 12345 fuzz.example. AQIDBAUGBwgJCgsMDQ4PEA==
@ SIG A 8 2 300 20240101000000 20230101000000 12345 fuzz.example. AQIDBAUGBwgJCgsMDQ4PEA==
@ NSEC next A NS SOA MX RRSIG NSEC DNSKEY TYPE1234
@ NXT next A NS SOA MX
@ DNSKEY 257 3 8 AwEAAbmiLgh411Pz3v3XCSBrvYf52A/Gv55ItN1NbOLHCqt3Ec3p+VB/kQ87
@ CDNSKEY 257 3 8 AwEAAbmiLgh411Pz3v3XCSBrvYf52A/Gv55ItN1NbOLHCqt3Ec3p+VB/kQ87
@ KEY 256 3 5 AQID
@ RKEY 0 1 8 AQID
@ DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=
2t7b4g4vsa5smi47k61mv5bv1a22bojr NSEC3 1 1 12 AABBCCDD 2t7b4g4vsa5smi47k61mv5bv1a22bojr NS SOA MX RRSIG DNSKEY NSEC3PARAM
@ NSEC3PARAM 1 0 10 AABB
@ TLSA 3 1 1 A9CDF989B504FE5DCA90C0D2167B6550570734F7C763E09FDF88904E06157065
@ SMIMEA 3 1 1 A9CDF989B504FE5DCA90C0D2167B6550570734F7C763E09FDF88904E06157065
@ HIP 2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zB rvs
@ NINFO "zone status"
@ TALINK h0 h1
@ OPENPGPKEY AQIDBAUGBwgJCgsMDQ4PEA==
@ CSYNC 66 3 A NS AAAA
@ ZONEMD 2018031900 1 1 C68090D90A7AED716BC459F9340E3D7C1370D4D24B7E2FC3A1DDC0B9A87153B9A9713B3C9AE5CC27777F98B8E730044C
@ SVCB 1 svc mandatory=alpn alpn=h2,h3 port=8443 ipv4hint=192.0.2.1 ech=AQID ipv6hint=2001:db8::1 dohpath="/q{?dns}" key667="x"
@ HTTPS 1 . alpn=h3 no-default-alpn ohttp
@ HTTPS 0 alias.other.test.
@ NID 10 0014:4fff:ff20:ee64
@ L32 10 10.1.2.0
@ L64 10 2001:0db8:1140:1000
@ LP 10 l64
@ EUI48 00-00-5e-00-53-2a
@ EUI64 00-00-5e-ef-10-00-00-2a
@ URI 10 1 "ftp://ftp1.example.com/public"
@ CAA 0 issue "ca.example.net"
@ AMTRELAY 128 1 3 relay
@ AMTRELAY 10 0 2 2001:db8::15
@ LOC 42 21 54 N 71 06 18 W -24m 30m
@ WKS 192.0.2.1 6 25 80
@ ATMA +19085551212
@ AVC "app"
@ RESINFO "qnamemin"
@ TYPE65280 \\# 2 abcd
@ TKEY gss 20240101000000 20240102000000 3 NOERROR 2 AQI= 0
@ TSIG hmac-sha256. 1700000000 300 4 AQIDBA== 4660 NOERROR 0
`.trim().split('\n').map((l) => recordFromText(l.replace('\\\\#', '\\#'), origin, 300));

/** Real-looking messages: each type in an answer, a big mixed one, and a query with EDNS. */
function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const edns = { udpSize: 1232, version: 0, do: true, z: 0, options: [{ code: 10, data: new Uint8Array(8).fill(7) }, { code: 3, data: new Uint8Array(0) }] };
  for (let i = 0; i < RECORDS.length; i++) {
    const rr = RECORDS[i]!;
    out.push(encodeMessage(makeMessage({
      id: i, qr: true, aa: true, question: [{ name: rr.name, type: rr.type, class: RRClass.IN }],
      answer: [rr, RECORDS[(i + 7) % RECORDS.length]!], authority: [RECORDS[1]!], additional: [RECORDS[3]!, RECORDS[4]!], edns,
    })));
  }
  out.push(encodeMessage(makeMessage({ id: 1, qr: true, question: [{ name: origin, type: RRType.ANY, class: RRClass.IN }], answer: RECORDS, edns })));
  out.push(encodeMessage(makeMessage({ id: 2, rd: true, question: [{ name: Name.parse('www.fuzz.example.'), type: RRType.HTTPS, class: RRClass.IN }], edns })));
  return out;
}

/** xorshift32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

type Mutation = (b: Uint8Array, r: () => number, other: Uint8Array) => Uint8Array;

const mutations: Record<string, Mutation> = {
  flip(b, r) {
    const out = b.slice();
    for (let n = 1 + (r() % 4); n > 0; n--) out[r() % out.length]! ^= 1 << (r() % 8);
    return out;
  },
  setByte(b, r) {
    const out = b.slice();
    for (let n = 1 + (r() % 3); n > 0; n--) out[r() % out.length] = r() & 0xff;
    return out;
  },
  truncate: (b, r) => b.slice(0, r() % b.length),
  splice(b, r, other) {
    const cut = r() % b.length;
    const from = r() % other.length;
    const out = new Uint8Array(cut + other.length - from);
    out.set(b.subarray(0, cut));
    out.set(other.subarray(from), cut);
    return out;
  },
  pointer(b, r) {
    // A compression pointer anywhere, to anywhere: backwards, forwards, at itself.
    const out = b.slice();
    const at = 12 + (r() % Math.max(1, out.length - 13));
    const target = r() % 3 === 0 ? at : r() % out.length;
    out[at] = 0xc0 | ((target >> 8) & 0x3f);
    if (at + 1 < out.length) out[at + 1] = target & 0xff;
    return out;
  },
  hugeCount(b, r) {
    const out = b.slice();
    const field = 4 + 2 * (r() % 4);
    const v = r() % 2 ? 0xffff : r() & 0xffff;
    out[field] = v >> 8;
    out[field + 1] = v & 0xff;
    return out;
  },
  insert(b, r) {
    const at = r() % b.length;
    const n = 1 + (r() % 16);
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, at));
    for (let i = 0; i < n; i++) out[at + i] = r() & 0xff;
    out.set(b.subarray(at), at + n);
    return out;
  },
  labelLength(b, r) {
    // Label length bytes of 0x40/0x80 (reserved label types) or 63.
    const out = b.slice();
    out[12 + (r() % Math.max(1, out.length - 12))] = [0x40, 0x80, 0x3f, 0x01][r() % 4]!;
    return out;
  },
};
const names = Object.keys(mutations);

function canonicalText(m: Message): string {
  const sec = (rrs: Message['answer']): string => rrs.map((rr) => recordToText(rr)).join('\n');
  return [m.question.map((q) => `${q.name} ${q.type} ${q.class}`).join('\n'), sec(m.answer), sec(m.authority), sec(m.additional), JSON.stringify(m.edns ? { ...m.edns, options: m.edns.options.map((o) => [o.code, Buffer.from(o.data).toString('hex')]) } : null)].join('\n--\n');
}

test('decodeMessage on mutated messages of every type: returns or throws WireError, nothing else', (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? 0x5eed1234);
  const iterations = Number(process.env.FUZZ_ITERATIONS ?? 120_000);
  const r = rng(seed);
  const base = corpus();
  for (const m of base) assert.equal(canonicalText(decodeMessage(m)), canonicalText(decodeMessage(encodeMessage(decodeMessage(m)))), 'corpus round-trips');
  const stats = new Map<string, { tried: number; rejected: number }>(names.map((n) => [n, { tried: 0, rejected: 0 }]));
  let accepted = 0;
  let rejected = 0;
  let slowestMs = 0;
  for (let i = 0; i < iterations; i++) {
    const name = names[r() % names.length]!;
    let input = base[r() % base.length]!;
    // Stack up to three mutations so damage compounds.
    for (let k = 1 + (r() % 3); k > 0; k--) {
      input = mutations[k === 1 ? name : names[r() % names.length]!]!(input, r, base[r() % base.length]!);
      if (input.length === 0) break;
    }
    const s = stats.get(name)!;
    s.tried++;
    const started = performance.now();
    let msg: Message | undefined;
    try {
      msg = decodeMessage(input);
    } catch (e) {
      if (!(e instanceof WireError)) {
        assert.fail(`seed ${seed} iteration ${i} (${name}): ${(e as Error).name}: ${(e as Error).message}\ninput ${Buffer.from(input).toString('hex')}`);
      }
      rejected++;
      s.rejected++;
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    if (msg) {
      accepted++;
      // What we accept we can write, and reading that back gives the same records.
      let again: Message;
      try {
        again = decodeMessage(encodeMessage(msg));
      } catch (e) {
        assert.fail(`seed ${seed} iteration ${i} (${name}): accepted input does not re-encode: ${(e as Error).message}\ninput ${Buffer.from(input).toString('hex')}`);
      }
      assert.equal(canonicalText(again), canonicalText(msg), `seed ${seed} iteration ${i}: re-encoding changed the message\ninput ${Buffer.from(input).toString('hex')}`);
    }
  }
  t.diagnostic(`seed ${seed}: ${iterations} decodes of mutated messages (corpus ${base.length} messages, ${RECORDS.length} record types+variants): ${accepted} accepted, ${rejected} rejected with WireError; slowest decode ${slowestMs.toFixed(2)} ms`);
  for (const [n, s] of stats) t.diagnostic(`  ${n}: ${s.tried} tried, ${s.rejected} rejected`);
  assert.equal(accepted + rejected, iterations);
  assert.ok(iterations >= 100_000 || process.env.FUZZ_ITERATIONS !== undefined, 'at least 100,000 decodes per run');
  assert.ok(rejected > iterations / 10 && accepted > iterations / 100, 'mutations both break and keep messages');
});
