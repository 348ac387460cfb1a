// The precompiled-answer fast path (AuthoritativeStep cache + FrontStep OPT append) must give
// the same bytes the slow path gives, for every query of the benchmark mix, with and without
// EDNS/DO, in any case; and must never serve an answer from a replaced zone set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, EdnsOptionCode, Name, recordToText, RRType, typeFromString, type Message } from '../../src/wire/index.js';
import { buildZone } from '../../src/zone/zone.js';
import { ZoneSet } from '../../src/authoritative/zone-set.js';
import { AuthoritativeStep, patchAnswer, questionKey, questionNameEnd } from '../../src/authoritative/step.js';
import { recordsFromText } from '../../src/authoritative/dns-case.js';
import { FrontStep } from '../../src/server/front.js';
import { composePipeline } from '../../src/server/pipeline.js';
import { buildRequest } from '../../src/transport/request.js';
import type { Endpoint, Handler, TransportKind } from '../../src/transport/handler.js';
import { encodeQuery } from '../../bench/pipeline.js';
import { generateQueries } from '../../bench/queries.js';

const client: Endpoint = { address: '127.0.0.1', port: 40000, family: 4 };
const ORIGIN = 'bench.test.';

/** A small zone in gen-zone's shape (hosts h0.., CNAMEs, MX, TXT, SRV, delegations). */
function zoneText(hosts: number, serial = 1): string {
  let t = `@ SOA ns1 hostmaster ${serial} 7200 3600 1209600 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n`;
  for (let i = 0; i < hosts; i++) {
    const h = `h${i.toString(36)}`;
    switch (i % 10) {
      case 0: case 1: case 2: case 3: t += `${h} A 10.0.${i >> 8}.${i & 255}\n`; break;
      case 4: t += `${h} 300 AAAA 2001:db8::${i.toString(16)}\n`; break;
      case 5: t += `${h} MX 10 mail.${h}\n`; break;
      case 6: t += `${h} TXT "v=spf1 -all" "id=${i}"\n`; break;
      case 7: t += `${h} CNAME h${(i - 7).toString(36)}\n`; break;
      case 8: t += `_sip._tcp.${h} SRV 10 5 5060 sip.${h}.example.\n`; break;
      case 9: t += `${h} NS ns.${h}\nns.${h} A 10.9.${i >> 8}.${i & 255}\n`; break;
    }
  }
  // One answer too big for 512 bytes, to check truncation still happens on the fast path.
  for (let i = 0; i < 30; i++) t += `big TXT "${'x'.repeat(60)}${i}"\n`;
  return t;
}

function zones(serial = 1, hosts = 200): ZoneSet {
  const o = Name.parse(ORIGIN);
  return new ZoneSet([buildZone(o, recordsFromText(o, zoneText(hosts, serial)))]);
}

function pipeline(getZones: () => ZoneSet, answerCache?: number, nsid?: Uint8Array): { h: Handler; step: AuthoritativeStep } {
  const step = new AuthoritativeStep(getZones, { answerCache });
  return { h: composePipeline([new FrontStep({ nsid }), step]), step };
}

async function ask(h: Handler, raw: Uint8Array, transport: TransportKind = 'udp'): Promise<Uint8Array> {
  const req = buildRequest(raw, client, { ...client, port: 53 }, transport, 'x');
  assert.ok(req);
  const reply = await h(req);
  assert.ok(reply.wire, 'a reply');
  return reply.wire;
}

/** Sections as text lines, owner names lower-cased (DNS names compare without case). */
function sections(m: Message): string {
  const lines = (rrs: typeof m.answer) => rrs.map((r) => recordToText({ ...r, name: Name.parse(r.name.toString().toLowerCase()) })).join('\n');
  return [lines(m.answer), lines(m.authority), lines(m.additional)].join('\n--\n');
}

test('fast path = slow path for every query of the benchmark mix, with and without EDNS and DO', async (t) => {
  const zs = zones();
  const fast = pipeline(() => zs);
  const slow = pipeline(() => zs, 0);
  const queries = generateQueries(220, 600, { mixedCase: 30 });
  let compared = 0;
  let hits = 0;
  for (const round of [0, 1]) {
    for (const [i, q] of queries.entries()) {
      for (const variant of ['plain', 'edns', 'do'] as const) {
        const raw = encodeQuery((i * 7 + round) & 0xffff, q.name, typeFromString(q.type)!, variant !== 'plain');
        if (variant === 'do') raw[raw.length - 4] = 0x80;
        if (i % 3 === 0) raw[2]! |= 0x01; // RD
        if (i % 5 === 0) raw[3]! |= 0x10; // CD
        const a = await ask(fast.h, raw);
        const b = await ask(slow.h, raw);
        const ma = decodeMessage(a);
        const mb = decodeMessage(b);
        assert.equal(ma.id, mb.id);
        assert.deepEqual({ ...ma, question: undefined, answer: undefined, authority: undefined, additional: undefined }, { ...mb, question: undefined, answer: undefined, authority: undefined, additional: undefined }, `${q.name} ${q.type} ${variant}: header and OPT`);
        assert.equal(ma.question[0]!.name.toString(), q.name, 'question case as sent');
        assert.equal(sections(ma), sections(mb), `${q.name} ${q.type} ${variant}: sections`);
        assert.equal(a.length, b.length);
        compared++;
      }
    }
    if (round === 0) hits = fast.step.cachedAnswers;
  }
  assert.ok(hits > 100, `answers cached: ${hits}`);
  t.diagnostic(`${compared} replies compared; ${fast.step.cachedAnswers} precompiled answers`);
});

test('a big answer is still truncated on the fast path; TCP gets it whole; OPT stays', async () => {
  const zs = zones();
  const { h } = pipeline(() => zs);
  for (let i = 0; i < 2; i++) {
    const plain = decodeMessage(await ask(h, encodeQuery(1, `big.${ORIGIN}`, RRType.TXT, false)));
    assert.equal(plain.tc, true);
    const edns = await ask(h, encodeQuery(2, `big.${ORIGIN}`, RRType.TXT, true));
    assert.ok(edns.length <= 1232);
    const tcp = decodeMessage(await ask(h, encodeQuery(3, `big.${ORIGIN}`, RRType.TXT, true), 'tcp'));
    assert.equal(tcp.tc, false);
    assert.equal(tcp.answer.length, 30);
    assert.equal(tcp.edns?.udpSize, 1232);
  }
});

test('a reload (new zone set) is never answered from the old cache', async () => {
  let zs = zones(1);
  const { h, step } = pipeline(() => zs);
  const soa = async () => decodeMessage(await ask(h, encodeQuery(9, ORIGIN, RRType.SOA, false))).answer[0]!.data as { serial: number };
  assert.equal((await soa()).serial, 1);
  assert.equal((await soa()).serial, 1);
  assert.ok(step.cachedAnswers >= 1);
  zs = zones(2);
  assert.equal((await soa()).serial, 2);
});

test('the cache is bounded: when full it starts again', async () => {
  const zs = zones();
  const { h, step } = pipeline(() => zs, 10);
  for (let i = 0; i < 35; i++) await ask(h, encodeQuery(i, `nx${i}.${ORIGIN}`, RRType.A, false));
  assert.ok(step.cachedAnswers <= 10 && step.cachedAnswers > 0, `held ${step.cachedAnswers}`);
});

test('NSID requests take the full path and get our NSID', async () => {
  const zs = zones();
  const { h } = pipeline(() => zs, undefined, Buffer.from('ns1'));
  const base = encodeQuery(5, `h0.${ORIGIN}`, RRType.A, true);
  // OPT with an empty NSID option: RDLENGTH 4.
  const raw = Uint8Array.from([...base.subarray(0, base.length - 2), 0, 4, 0, EdnsOptionCode.NSID, 0, 0]);
  for (let i = 0; i < 2; i++) {
    const m = decodeMessage(await ask(h, raw));
    assert.equal(Buffer.from(m.edns!.options.find((o) => o.code === EdnsOptionCode.NSID)!.data).toString(), 'ns1');
    assert.equal(m.answer.length, 1);
  }
});

test('patchAnswer copies ID, RD, CD and the question bytes; refuses names that do not line up', () => {
  const answer = encodeMessage({
    id: 1, qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0,
    question: [{ name: Name.parse('www.example.'), type: 1, class: 1 }], answer: [], authority: [], additional: [],
  });
  const q = encodeQuery(0xbeef, 'WwW.Example.', 1, false);
  q[2]! |= 0x01;
  q[3]! |= 0x10;
  const out = patchAnswer(answer, q)!;
  const m = decodeMessage(out);
  assert.equal(m.id, 0xbeef);
  assert.equal(m.rd, true);
  assert.equal(m.cd, true);
  assert.equal(m.aa, true);
  assert.equal(m.question[0]!.name.toString(), 'WwW.Example.');
  assert.notEqual(out, answer, 'a copy, never the cached bytes');
  assert.equal(decodeMessage(answer).id, 1);
  assert.equal(patchAnswer(answer, encodeQuery(1, 'other.example.', 1, false)), undefined);
  assert.equal(questionNameEnd(Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0])), -1, 'a pointer is not patched');
});

test('questionKey folds case, tells names, types, classes and DO apart, and has a text fallback', () => {
  const key = (raw: Uint8Array, dnssec = false) => questionKey(raw, decodeMessage(raw).question[0]!, dnssec);
  const names = ['h0.bench.test.', 'H0.Bench.TEST.', 'h1.bench.test.', 'h0.bench.tesu.', 'a.b.c.d.e.', '.'];
  const keys = names.map((n) => key(encodeQuery(1, n, RRType.A, false)));
  assert.equal(keys[0], keys[1], 'case folded');
  keys.push(key(encodeQuery(1, names[0]!, RRType.AAAA, false)), key(encodeQuery(1, names[0]!, RRType.A, false), true));
  const ch = encodeQuery(1, names[0]!, RRType.A, false);
  ch[ch.length - 1] = 3;
  keys.push(key(ch));
  assert.equal(new Set(keys).size, keys.length - 1, `distinct otherwise: ${JSON.stringify(keys)}`);
  // A question name that is only a compression pointer cannot be keyed from the wire.
  const raw = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  const question = { name: Name.parse('X.Example.'), type: RRType.A, class: 1 };
  assert.equal(questionKey(raw, question, false), '~x.example.|1|1|0');
});

test('DS at a child apex comes from the parent zone, other types from the child, with answers cached', async () => {
  const parent = Name.parse('test.');
  const child = Name.parse(ORIGIN);
  const zs = new ZoneSet([
    buildZone(parent, recordsFromText(parent, `@ SOA ns1 hostmaster 7 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.9\nbench NS ns1.bench\nbench DS 12345 13 2 ${'ab'.repeat(32)}\nns1.bench A 192.0.2.1\n`)),
    buildZone(child, recordsFromText(child, zoneText(5))),
  ]);
  const { h, step } = pipeline(() => zs);
  for (let round = 0; round < 2; round++) {
    const ds = decodeMessage(await ask(h, encodeQuery(round, 'Bench.Test.', RRType.DS, false)));
    assert.deepEqual(ds.answer.map((r) => r.type), [RRType.DS], `round ${round}: DS from the parent`);
    assert.equal(ds.aa, true);
    const soa = decodeMessage(await ask(h, encodeQuery(round, ORIGIN, RRType.SOA, false)));
    assert.equal((soa.answer[0]!.data as { serial: number }).serial, 1, `round ${round}: SOA from the child`);
  }
  assert.equal(step.cachedAnswers, 2);
});
