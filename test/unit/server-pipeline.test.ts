// The pipeline and its front (RFC 1035 §4.1.1 header checks, RFC 6891 EDNS, RFC 5001 NSID,
// RFC 8914 EDE), exercised in-process with Request objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeEde, decodeMessage, EdeCode, EdnsOptionCode, encodeMessage, getOption, makeMessage, Name, Opcode, Rcode, recordFromText, RRType,
  type Message,
} from '../../src/wire/index.js';
import type { Next, Reply, Request, Step, TransportKind } from '../../src/transport/handler.js';
import { composePipeline, describePipeline, orderSteps, RefuseStep } from '../../src/server/pipeline.js';
import { FrontStep } from '../../src/server/front.js';
import { makeResponse } from '../../src/server/response.js';
import { buildRequest } from '../../src/transport/request.js';
import { queryMessage } from './server-harness.js';

function request(message: Message, transport: TransportKind = 'udp'): Request {
  const ep = { address: '127.0.0.1', port: 5353, family: 4 as const };
  return { message, raw: encodeMessage(message), client: ep, local: ep, transport, listener: 'test', receivedAt: 0n, state: {} };
}

/** Answers every query with `n` TXT records of `size` bytes each. */
function bigAnswer(n: number, size: number): Step {
  return {
    name: 'big',
    phase: 'answer',
    async handle(req) {
      const r = makeResponse(req.message, Rcode.NOERROR);
      const o = Name.parse('example.test.');
      for (let i = 0; i < n; i++) r.answer.push(recordFromText(`big.example.test. 60 IN TXT "${String(i).padStart(size, 'x')}"`, o));
      return { message: { ...r, aa: true } };
    },
  };
}

function recorder(name: string, phase: Step['phase'], log: string[], answer = false): Step {
  return {
    name,
    phase,
    async handle(req: Request, next: Next): Promise<Reply> {
      log.push(name);
      if (answer) return { message: makeResponse(req.message, Rcode.NOERROR) };
      const r = await next(req);
      if (phase === 'finalize') log.push(`${name}:post`);
      return r;
    },
  };
}

test('phases run accept → route → policy → answer, finalize wraps the chain', async () => {
  const log: string[] = [];
  const steps = [
    recorder('answer1', 'answer', log, true),
    recorder('log', 'finalize', log),
    recorder('policy1', 'policy', log),
    new FrontStep(),
    recorder('accept1', 'accept', log),
    recorder('route1', 'route', log),
    recorder('accept2', 'accept', log),
  ];
  // Finalize steps wrap in config order: "log" (listed first) is the inner wrapper, FrontStep the outer.
  const handler = composePipeline(orderSteps(steps));
  const reply = await handler(request(queryMessage('a.example.', 'A')));
  assert.deepEqual(log, ['log', 'accept1', 'accept2', 'route1', 'policy1', 'answer1', 'log:post']);
  assert.ok(reply.wire, 'the front step encoded the reply');
  assert.match(describePipeline(steps), /accept\s+accept1 → accept2\nroute\s+route1\npolicy\s+policy1\nanswer\s+answer1 → refuse/);
});

test('nothing answered: REFUSED with EDE 20, or EDE 18 when recursion was asked for', async () => {
  const h = composePipeline([new FrontStep()]);
  for (const rd of [false, true]) {
    const reply = await h(request(queryMessage('elsewhere.example.', 'A', { rd, edns: {} })));
    const m = decodeMessage(reply.wire!);
    assert.equal(m.rcode, Rcode.REFUSED);
    assert.equal(m.rd, rd, 'RD copied');
    const ede = decodeEde(getOption(m.edns, EdnsOptionCode.EDE)!);
    assert.equal(ede.infoCode, rd ? EdeCode.PROHIBITED : EdeCode.NOT_AUTHORITATIVE);
  }
  // Without EDNS in the query there is no OPT, so no EDE either (RFC 6891 §7).
  const plain = decodeMessage((await h(request(queryMessage('elsewhere.example.', 'A')))).wire!);
  assert.equal(plain.rcode, Rcode.REFUSED);
  assert.equal(plain.edns, undefined);
});

test('front: NOTIMP for other opcodes, FORMERR for QDCOUNT ≠ 1, BADVERS for EDNS version ≠ 0', async () => {
  let reached = 0;
  const answer: Step = { name: 'a', phase: 'answer', handle: async (req) => (reached++, { message: makeResponse(req.message, Rcode.NOERROR) }) };
  const h = composePipeline([new FrontStep(), answer]);
  for (const op of [Opcode.IQUERY, Opcode.STATUS, Opcode.NOTIFY, Opcode.UPDATE, 3, 15]) {
    const m = decodeMessage((await h(request(queryMessage('x.example.', 'SOA', { opcode: op })))).wire!);
    assert.equal(m.rcode, Rcode.NOTIMP, `opcode ${op}`);
    assert.equal(m.opcode, op, 'opcode echoed');
  }
  for (const qd of [0, 2]) {
    const q = queryMessage('x.example.', 'A');
    const msg = { ...q, question: qd === 0 ? [] : [q.question[0]!, q.question[0]!] };
    const m = decodeMessage((await h(request(msg))).wire!);
    assert.equal(m.rcode, Rcode.FORMERR, `qdcount ${qd}`);
  }
  for (const version of [1, 255]) {
    const m = decodeMessage((await h(request(queryMessage('x.example.', 'A', { edns: { version } })))).wire!);
    assert.equal(m.rcode, Rcode.BADVERS, `EDNS version ${version}`);
    assert.equal(m.edns?.version, 0, 'BADVERS carries our version, 0');
  }
  assert.equal(reached, 0, 'none of these reached the answer phase');
  await h(request(queryMessage('x.example.', 'A', { edns: {} })));
  assert.equal(reached, 1);
});

test('front: EDNS payload is min(client, ours), ≥ 512; 512 without EDNS; 65535 over TCP', () => {
  const f = new FrontStep({ udpSize: 1232 });
  const cases: Array<[number | undefined, TransportKind, number]> = [
    [undefined, 'udp', 512], [4096, 'udp', 1232], [1232, 'udp', 1232], [800, 'udp', 800], [100, 'udp', 512], [0, 'udp', 512],
    [undefined, 'tcp', 65535], [512, 'tcp', 65535],
  ];
  for (const [client, transport, want] of cases) {
    const q = queryMessage('x.example.', 'A', { edns: client === undefined ? false : { udpSize: client } });
    assert.equal(f.maxSize(request(q, transport)), want, `client ${client} over ${transport}`);
  }
});

test('front: truncation at an RRset boundary with TC over UDP, the whole answer over TCP', async () => {
  const h = composePipeline([new FrontStep({ udpSize: 1232 }), bigAnswer(30, 100)]);
  const cases: Array<[number | false, TransportKind]> = [[false, 'udp'], [1232, 'udp'], [4096, 'udp'], [false, 'tcp']];
  for (const [size, transport] of cases) {
    const reply = await h(request(queryMessage('big.example.test.', 'TXT', { edns: size === false ? false : { udpSize: size } }), transport));
    const m = decodeMessage(reply.wire!);
    const limit = transport === 'tcp' ? 65535 : size === false ? 512 : Math.min(size, 1232);
    assert.ok(reply.wire!.length <= limit, `${reply.wire!.length} ≤ ${limit}`);
    if (transport === 'udp') {
      assert.equal(m.tc, true, `TC set (${size})`);
      // One RRset: truncation at its boundary leaves the answer section empty.
      assert.equal(m.answer.length, 0);
      assert.equal(m.edns !== undefined, size !== false, 'OPT still present in a truncated reply');
    } else {
      assert.equal(m.tc, false);
      assert.equal(m.answer.length, 30);
    }
  }
});

test('front: DO copied, NSID only when configured and asked, EDE from steps kept', async () => {
  const nsid = Uint8Array.from(Buffer.from('ns1.test'));
  const edeStep: Step = {
    name: 'ede',
    phase: 'answer',
    handle: async (req) => ({ message: makeResponse(req.message, Rcode.NOERROR, { infoCode: EdeCode.FILTERED, text: 'x' }) }),
  };
  const h = composePipeline([new FrontStep({ nsid }), edeStep]);
  const asked = decodeMessage((await h(request(queryMessage('x.example.', 'A', { edns: { do: true, options: [{ code: EdnsOptionCode.NSID, data: new Uint8Array(0) }] } })))).wire!);
  assert.equal(asked.edns?.do, true);
  assert.equal(asked.edns?.udpSize, 1232);
  assert.deepEqual(Buffer.from(getOption(asked.edns, EdnsOptionCode.NSID)!.data).toString(), 'ns1.test');
  assert.equal(decodeEde(getOption(asked.edns, EdnsOptionCode.EDE)!).infoCode, EdeCode.FILTERED);
  const notAsked = decodeMessage((await h(request(queryMessage('x.example.', 'A', { edns: {} })))).wire!);
  assert.equal(notAsked.edns?.do, false);
  assert.equal(getOption(notAsked.edns, EdnsOptionCode.NSID), undefined);
  const h2 = composePipeline([new FrontStep(), edeStep]);
  const unconfigured = decodeMessage((await h2(request(queryMessage('x.example.', 'A', { edns: { options: [{ code: EdnsOptionCode.NSID, data: new Uint8Array(0) }] } })))).wire!);
  assert.equal(getOption(unconfigured.edns, EdnsOptionCode.NSID), undefined);
});

test('front: a throwing step gives SERVFAIL and is reported; drops stay drops', async () => {
  const errors: unknown[] = [];
  const boom: Step = { name: 'boom', phase: 'answer', handle: async () => { throw new Error('kaput'); } };
  const h = composePipeline([new FrontStep({ onError: (e) => errors.push(e) }), boom]);
  const m = decodeMessage((await h(request(queryMessage('x.example.', 'A')))).wire!);
  assert.equal(m.rcode, Rcode.SERVFAIL);
  assert.equal((errors[0] as Error).message, 'kaput');
  const dropper: Step = { name: 'drop', phase: 'accept', handle: async () => ({ drop: true, reason: 'rate-limit' }) };
  const r = await composePipeline([new FrontStep(), dropper])(request(queryMessage('x.example.', 'A')));
  assert.equal(r.drop, true);
  assert.equal(r.wire, undefined);
});

test('front: precompiled wire replies pass through, and are truncated when too big', async () => {
  const big = encodeMessage({ ...makeResponse(queryMessage('big.example.test.', 'TXT'), 0), answer: (await bigAnswer(30, 100).handle(request(queryMessage('big.example.test.', 'TXT')), async () => ({}))).message!.answer });
  const small = encodeMessage(makeResponse(queryMessage('x.example.', 'A'), Rcode.NXDOMAIN));
  const wireStep = (wire: Uint8Array): Step => ({ name: 'w', phase: 'answer', handle: async () => ({ wire }) });
  const r1 = await composePipeline([new FrontStep(), wireStep(small)])(request(queryMessage('x.example.', 'A')));
  assert.equal(r1.wire, small, 'same bytes, untouched');
  const r2 = await composePipeline([new FrontStep(), wireStep(big)])(request(queryMessage('big.example.test.', 'TXT')));
  assert.ok(r2.wire!.length <= 512);
  assert.equal(decodeMessage(r2.wire!).tc, true);
});

test('transport decode: FORMERR for a readable question with junk after it, drop for responses and garbage', async () => {
  const ep = { address: '127.0.0.1', port: 1, family: 4 as const };
  const good = encodeMessage(queryMessage('x.example.', 'A'));
  const junk = new Uint8Array([...good.slice(0, 11), 1, ...good.slice(12), 0xde, 0xad]); // ARCOUNT 1, broken record
  const req = buildRequest(junk, ep, ep, 'udp', 't');
  assert.ok(req && typeof req.state.malformed === 'string');
  const m = decodeMessage((await composePipeline([new FrontStep()])(req)).wire!);
  assert.equal(m.rcode, Rcode.FORMERR);
  assert.equal(m.question[0]?.name.toString(), 'x.example.');
  assert.equal(m.id, req.message.id);
  const response = Uint8Array.from(junk);
  response[2]! |= 0x80;
  assert.equal(buildRequest(response, ep, ep, 'udp', 't'), undefined, 'QR=1 with junk: dropped');
  assert.equal(buildRequest(encodeMessage({ ...queryMessage('x.example.', 'A'), qr: true }), ep, ep, 'udp', 't'), undefined, 'a response: dropped');
  assert.equal(buildRequest(new Uint8Array(5), ep, ep, 'udp', 't'), undefined, 'shorter than a header');
  assert.equal(buildRequest(new Uint8Array([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63]), ep, ep, 'udp', 't'), undefined, 'unreadable question');
});

test('RefuseStep and orderSteps reject unknown phases', () => {
  assert.throws(() => orderSteps([{ name: 'odd', phase: 'later' as never, handle: async () => ({}) }]), /unknown phase/);
  assert.equal(new RefuseStep().phase, 'answer');
  assert.equal(RRType.A, 1);
});
