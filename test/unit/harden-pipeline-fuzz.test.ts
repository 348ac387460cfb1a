// The whole pipeline of the example config, in process, fed mutated packets (the same generator
// as the live-server fuzz): no step may throw, a response is never answered, and every reply
// decodes, carries the query's ID, has QR set and fits the transport's size limit. Also: every
// YAML snippet in docs/hardening.md is a valid config. FUZZ_SEED / FUZZ_ITERATIONS to replay or
// run longer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfigText } from '../../src/server/config.js';
import { createLogger } from '../../src/server/log.js';
import { PortcullisServer } from '../../src/server/server.js';
import { buildRequest } from '../../src/transport/request.js';
import { decodeMessage } from '../../src/wire/index.js';
import { PacketFuzzer } from '../interop/fuzz-packets.js';
import { repoRoot } from './server-harness.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 30_000);

test('every yaml snippet in docs/hardening.md is a valid config', () => {
  const text = readFileSync(join(repoRoot, 'docs', 'hardening.md'), 'utf8');
  let n = 0;
  for (const m of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    parseConfigText(m[1]!, `docs/hardening.md snippet ${++n}`);
  }
  assert.ok(n >= 3, `found ${n} snippets`);
});

test(`pipeline fuzz: ${ITERATIONS} mutated packets through the example config's pipeline`, async (t) => {
  const zone = join(repoRoot, 'examples', 'zones', 'example.test.zone');
  const config = parseConfigText([
    'listen: ["127.0.0.1:0"]',
    'zones:',
    `  - { name: example.test, file: "${zone}" }`,
    'acl: { internal: [127.0.0.0/8] }',
    // Recursion is configured (so the resolver step is in the chain) but allowed to nobody:
    // nothing here may leave the process.
    'resolver: { allow: [] }',
    'rate-limit: { responses-per-second: 20, slip: 2 }',
    'max-amplification: 10',
    'views:',
    '  - { name: inside, clients: [internal], zones: [example.test] }',
    '  - { name: outside, clients: [any], zones: [example.test] }',
  ].join('\n'), join(repoRoot, 'fuzz.yaml'));
  const errors: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = chunk.toString();
      if (/"level":(50|60)/.test(line) && errors.length < 20) errors.push(line.slice(0, 500));
      done();
    },
  });
  const server = await PortcullisServer.create({ config, logger: createLogger({ level: 'warn', stream: sink, pretty: false }) });
  const fuzz = new PacketFuzzer(SEED, 4096);
  const local = { address: '127.0.0.1', port: 53, family: 4 as const };
  const outcome = { requests: 0, dropped: 0, replies: 0, transportDropped: 0 };
  const rcodes = new Map<number, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const p = fuzz.next();
    const transport = i % 5 === 0 ? 'tcp' : 'udp';
    const client = { address: i % 3 === 0 ? `127.0.0.${1 + (i % 200)}` : `198.51.100.${i % 250}`, port: 1024 + i, family: 4 as const };
    const req = buildRequest(p.bytes, client, local, transport, 'fuzz');
    if (!req) {
      outcome.transportDropped++;
      continue;
    }
    outcome.requests++;
    const isResponse = (p.bytes[2]! & 0x80) !== 0;
    let reply;
    try {
      reply = await server.dispatch(req);
    } catch (e) {
      assert.fail(`seed ${SEED} packet ${i} (${p.kind}) threw ${(e as Error).stack}\n${Buffer.from(p.bytes).toString('hex')}`);
    }
    if (reply.drop || !reply.wire) {
      outcome.dropped++;
      continue;
    }
    assert.ok(!isResponse, `seed ${SEED} packet ${i}: a response (QR=1) was answered`);
    outcome.replies++;
    const wire = reply.wire;
    const limit = transport === 'tcp' ? 65535 : req.message.edns ? Math.max(512, Math.min(req.message.edns.udpSize, 1232)) : 512;
    assert.ok(wire.length <= limit, `seed ${SEED} packet ${i} (${p.kind}): ${transport} reply of ${wire.length} bytes > ${limit}`);
    let m;
    try {
      m = decodeMessage(wire);
    } catch (e) {
      assert.fail(`seed ${SEED} packet ${i} (${p.kind}): our reply does not decode: ${(e as Error).message}\n${Buffer.from(wire).toString('hex')}`);
    }
    assert.equal(m.id, req.message.id, `seed ${SEED} packet ${i}: reply ID`);
    assert.ok(m.qr, `seed ${SEED} packet ${i}: QR set`);
    rcodes.set(m.rcode, (rcodes.get(m.rcode) ?? 0) + 1);
  }
  await server.stop(0);
  t.diagnostic(`seed ${SEED}: ${ITERATIONS} packets → ${outcome.transportDropped} dropped by the transport, ${outcome.requests} requests, ` +
    `${outcome.replies} replies, ${outcome.dropped} dropped by steps; rcodes ${[...rcodes].sort((a, b) => a[0] - b[0]).map(([r, n]) => `${r}:${n}`).join(' ')}`);
  t.diagnostic(`kinds: ${Object.entries(fuzz.counts).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  assert.deepEqual(errors, [], 'no step failed (no error logged)');
  assert.ok(outcome.replies > ITERATIONS / 10, 'a good share of the packets was answered (the fuzz reaches the answer path)');
});
