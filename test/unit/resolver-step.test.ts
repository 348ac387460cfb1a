// ResolverStep: access control (never an open resolver) and the response header.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import type { Request } from '../../src/transport/handler.js';
import { FakeUpstream } from '../../src/resolver/fake-upstream.js';
import { Resolver } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { ResolverStep } from '../../src/resolver/step.js';
import { ManualClock } from '../../src/resolver/types.js';
import { decodeEde, EdnsOptionCode, makeMessage, Name, Opcode, Rcode, RRType, type Message } from '../../src/wire/index.js';

const ROOT = '127.0.53.1';
// A test trust anchor for a zone this unsigned world never reaches: every answer is insecure.
const TEST_ANCHOR = TrustAnchors.parse('anchor.invalid. IN DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000000');
const up = new FakeUpstream().serve([ROOT], '.', ['. 86400 IN SOA a.root. h.root. 1 2 3 4 300', 'www.example. 300 IN A 192.0.2.80']);
const resolver = new Resolver({ rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: TEST_ANCHOR, upstream: up, clock: new ManualClock(), caseRandomisation: false });

function request(client: string, init: Partial<Message> = {}): Request {
  const message = makeMessage({
    id: 0x1234, rd: true, question: [{ name: Name.parse('WWW.Example.'), type: RRType.A, class: 1 }],
    edns: { udpSize: 1232, version: 0, do: false, z: 0, options: [] }, ...init,
  });
  return {
    message, raw: new Uint8Array(0), client: { address: client, port: 40000, family: client.includes(':') ? 6 : 4 },
    local: { address: '127.0.0.1', port: 53, family: 4 }, transport: 'udp', listener: '127.0.0.1:53', receivedAt: 0n, state: {},
  };
}
const next = async () => ({ drop: true });

function ede(m: Message | undefined): number | undefined {
  const o = m?.edns?.options.find((x) => x.code === EdnsOptionCode.EDE);
  return o ? decodeEde(o).infoCode : undefined;
}

test('loopback clients recurse by default: RA set, AA clear, id and question as received', async () => {
  const step = new ResolverStep(resolver);
  assert.equal(step.name, 'resolver');
  assert.equal(step.phase, 'answer');
  const r = await step.handle(request('127.0.0.1'), next);
  const m = r.message!;
  assert.equal(m.rcode, Rcode.NOERROR);
  assert.equal(m.id, 0x1234);
  assert.ok(m.qr && m.ra && m.rd && !m.aa);
  assert.equal(m.question[0]!.name.toString(), 'WWW.Example.');
  assert.equal(m.answer.length, 1);
  assert.ok((await step.handle(request('::1'), next)).message!.ra);
});

test('other clients get REFUSED with EDE 18 Prohibited and no data', async () => {
  const step = new ResolverStep(resolver);
  const before = up.count();
  const r = await step.handle(request('192.0.2.7'), next);
  assert.equal(r.message!.rcode, Rcode.REFUSED);
  assert.equal(ede(r.message), 18);
  assert.equal(r.message!.answer.length, 0);
  assert.equal(up.count(), before, 'no upstream work for a refused client');
});

test('an allow function decides; the accept phase decision wins when present', async () => {
  const step = new ResolverStep(resolver, { allow: (c) => c.address.startsWith('10.') });
  assert.equal((await step.handle(request('10.1.2.3'), next)).message!.rcode, Rcode.NOERROR);
  assert.equal((await step.handle(request('127.0.0.1'), next)).message!.rcode, Rcode.REFUSED);
  const req = request('127.0.0.1');
  req.state.recursionAllowed = true;
  assert.equal((await step.handle(req, next)).message!.rcode, Rcode.NOERROR);
  const none = new ResolverStep(resolver, { allow: () => false });
  assert.equal((await none.handle(request('127.0.0.1'), next)).message!.rcode, Rcode.REFUSED);
});

test('SERVFAIL carries an EDE; no OPT in the answer when the query had none', async () => {
  const step = new ResolverStep(resolver);
  const bad = request('127.0.0.1', { question: [{ name: Name.parse('down.invalid-zone.'), type: RRType.A, class: 1 }] });
  up.down.add(ROOT);
  const r = await step.handle(bad, next);
  up.down.delete(ROOT);
  assert.equal(r.message!.rcode, Rcode.SERVFAIL);
  assert.equal(ede(r.message), 22);
  const plain = await step.handle(request('127.0.0.1', { edns: undefined }), next);
  assert.equal(plain.message!.edns, undefined);
});

test('non-QUERY opcodes get NOTIMP, zone transfers REFUSED', async () => {
  const step = new ResolverStep(resolver);
  assert.equal((await step.handle(request('127.0.0.1', { opcode: Opcode.NOTIFY }), next)).message!.rcode, Rcode.NOTIMP);
  const axfr = request('127.0.0.1', { question: [{ name: Name.parse('example.'), type: RRType.AXFR, class: 1 }] });
  assert.equal((await step.handle(axfr, next)).message!.rcode, Rcode.REFUSED);
});
