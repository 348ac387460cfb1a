import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name, recordToText, RRType, type ResourceRecord } from '../../src/wire/index.js';
import { Lexer, lexText } from '../../src/zone/lexer.js';
import { parseZoneText, readZoneFile, RecordPositions, recordPosition, substitute, ZoneError, type ZoneWarning } from '../../src/zone/parser.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const fixtures = join(repoRoot(), 'test', 'fixtures', 'zones');

const lines = (rrs: ResourceRecord[]): string[] => rrs.map((r) => recordToText(r));
const parse = (text: string, origin = 'example.test.', extra: { warnings?: ZoneWarning[] } = {}): string[] =>
  lines(parseZoneText(text, { origin, file: 'z', ...extra }));

/** The error a text raises: its `LINE:COL: message` part. */
function errorOf(text: string, origin = 'example.test.'): string {
  try {
    parseZoneText(text, { origin, file: 'z' });
  } catch (e) {
    assert.ok(e instanceof ZoneError, `not a ZoneError: ${e}`);
    assert.ok(e.message.startsWith(`z:${e.line}:${e.col}: `), e.message);
    return `${e.line}:${e.col}: ${e.reason}`;
  }
  assert.fail('no error raised');
}

test('lexer: parentheses join lines, comments and quotes, blank owners', () => {
  const entries = lexText('a ( 1 ; c\n 2 )\n  b "x ; y" \\; ;tail\n\n;only\nc\\ d e\n');
  assert.deepEqual(entries.map((e) => [e.blankOwner, e.line, e.tokens.map((t) => (t.quoted ? `"${t.text}"` : t.text))]), [
    [false, 1, ['a', '1', '2']],
    [true, 3, ['b', '"x ; y"', '\\;']],
    [false, 6, ['c\\ d', 'e']],
  ]);
  assert.deepEqual(entries[1]!.tokens.map((t) => [t.line, t.col]), [[3, 3], [3, 5], [3, 13]]);
});

test('lexer: a quoted string may span lines; CRLF is whitespace', () => {
  const [e] = lexText('@ TXT ( "first\r\nsecond" x )\r\n');
  assert.deepEqual(e!.tokens.map((t) => t.text), ['@', 'TXT', 'first\nsecond', 'x']);
});

test('lexer: feeding one character at a time gives the same entries as the whole text', () => {
  const text = '$ORIGIN x.\n@ SOA a b ( 1 2\n 3 4 5 ) ; c\n  TXT "q\\"q" ( "multi\nline" )\nlast A 1.2.3.4';
  const lx = new Lexer('f');
  for (const ch of text) lx.feed(ch);
  lx.end();
  const got = [];
  for (let e = lx.shift(); e; e = lx.shift()) got.push(e);
  assert.deepEqual(got, lexText(text, 'f'));
  assert.equal(got.length, 4);
});

test('lexer errors: nested and unbalanced parentheses, unterminated quote, with positions', () => {
  assert.equal(errorOf('@ 60 TXT ( ( "x" ) )\n'), '1:12: nested "(": parentheses do not nest in zone files');
  assert.equal(errorOf('@ 60 TXT "x" )\n'), '1:14: ")" without a matching "("');
  assert.equal(errorOf('@ 60 A 192.0.2.1\n@ 60 TXT (\n"x"\n'), '2:10: unclosed "(": expected ")" before the end of the file');
  assert.equal(errorOf('@ 60 TXT "abc\n'), '1:10: unterminated quoted string: expected a closing \'"\'');
});

test('owner rules: @, relative, absolute, previous owner, escapes', () => {
  assert.deepEqual(parse('$TTL 60\n@ A 192.0.2.1\nwww A 192.0.2.2\n  AAAA ::1\nabs.other. A 192.0.2.3\na\\.b TXT x\n'), [
    'example.test.\t60\tIN\tA\t192.0.2.1',
    'www.example.test.\t60\tIN\tA\t192.0.2.2',
    'www.example.test.\t60\tIN\tAAAA\t::1',
    'abs.other.\t60\tIN\tA\t192.0.2.3',
    'a\\.b.example.test.\t60\tIN\tTXT\t"x"',
  ]);
  assert.equal(errorOf('$TTL 60\n  A 192.0.2.1\n'), '2:3: no previous owner name for a line that starts with whitespace');
  assert.equal(errorOf('$TTL 60\na..b A 192.0.2.1\n'), '2:1: bad owner name "a..b": empty label in name "a..b"');
});

test('TTL and class in either order, both optional', () => {
  assert.deepEqual(parse('$TTL 5\na IN 10 A 192.0.2.1\nb 20 IN A 192.0.2.1\nc IN A 192.0.2.1\nd 1h30m A 192.0.2.1\n'), [
    'a.example.test.\t10\tIN\tA\t192.0.2.1',
    'b.example.test.\t20\tIN\tA\t192.0.2.1',
    'c.example.test.\t5\tIN\tA\t192.0.2.1',
    'd.example.test.\t5400\tIN\tA\t192.0.2.1',
  ]);
  assert.equal(errorOf('$TTL 5\na 10 20 A 192.0.2.1\n'), '2:6: second TTL "20": expected a class or record type');
  assert.equal(errorOf('$TTL 5\na IN IN A 192.0.2.1\n'), '2:6: second class "IN": expected a record type');
  assert.equal(errorOf('$TTL 5\na CH A 192.0.2.1\n'), '2:3: class CH does not match the zone class IN');
  assert.equal(errorOf('$TTL 5\na 10 IN\n'), '2:8: expected a record type');
  assert.equal(errorOf('$TTL 5\na 1x A 192.0.2.1\n'), '2:3: bad TTL "1x": expected seconds (0 to 4294967295) or units like 1h30m');
});

test('TTL default rules: $TTL, else the previous TTL, else the SOA minimum with a warning', () => {
  const warnings: ZoneWarning[] = [];
  assert.deepEqual(parse('@ SOA ns h 1 2 3 4 77\n  NS ns\nns 30 A 192.0.2.1\nx A 192.0.2.2\n$TTL 9\ny A 192.0.2.3\nz 8 A 192.0.2.4\nw A 192.0.2.5\n', 'example.test.', { warnings }).map((l) => l.split('\t').slice(0, 2).join(' ')), [
    'example.test. 77', 'example.test. 77', 'ns.example.test. 30', 'x.example.test. 30', 'y.example.test. 9', 'z.example.test. 8', 'w.example.test. 9',
  ]);
  assert.deepEqual(warnings.map((w) => `${w.line}:${w.col}: ${w.message}`), ['1:1: no TTL specified; using the SOA minimum 77 (RFC 2308: add $TTL)']);
  assert.equal(errorOf('a A 192.0.2.1\n'), '1:1: no TTL specified: expected a TTL, a $TTL directive or an earlier record to take it from');
  assert.deepEqual(lines(parseZoneText('a A 192.0.2.1\n', { origin: 'x.', defaultTtl: 42 })), ['a.x.\t42\tIN\tA\t192.0.2.1']);
});

test('TTL above 2^31-1 loads with a warning; above 2^32-1 is an error', () => {
  const warnings: ZoneWarning[] = [];
  assert.deepEqual(parse('a 4294967295 A 192.0.2.1\n', 'x.', { warnings }), ['a.x.\t4294967295\tIN\tA\t192.0.2.1']);
  assert.equal(warnings.length, 1);
  assert.equal(errorOf('a 4294967296 A 192.0.2.1\n'), '1:3: bad TTL "4294967296": expected seconds (0 to 4294967295) or units like 1h30m');
});

test('$ORIGIN: absolute, relative to the current origin, errors', () => {
  assert.deepEqual(parse('$TTL 1\n$ORIGIN a.test.\nx A 192.0.2.1\n$ORIGIN sub\ny A 192.0.2.1\n$origin .\nz A 192.0.2.1\n'), [
    'x.a.test.\t1\tIN\tA\t192.0.2.1', 'y.sub.a.test.\t1\tIN\tA\t192.0.2.1', 'z.\t1\tIN\tA\t192.0.2.1',
  ]);
  assert.equal(errorOf('$ORIGIN\n'), '1:8: expected a domain name after $ORIGIN');
  assert.equal(errorOf('$ORIGIN a. b\n'), '1:12: unexpected "b" after the $ORIGIN name');
  assert.equal(errorOf('$ORIGIN ..\n'), '1:9: bad $ORIGIN name "..": empty label in name ".."');
  assert.equal(errorOf('$FOO 1\n'), '1:1: unknown directive "$FOO": expected $ORIGIN, $TTL, $INCLUDE or $GENERATE');
});

test('$TTL errors', () => {
  assert.equal(errorOf('$TTL\n'), '1:5: expected a TTL after $TTL');
  assert.equal(errorOf('$TTL -1\n'), '1:6: bad TTL "-1": expected seconds (0 to 4294967295) or units like 1h30m');
});

test('type and RDATA: RFC 3597 generic forms, errors at the offending token', () => {
  assert.deepEqual(parse('$TTL 1\na TYPE65280 \\# 3 abcdef\nb A \\# 4 c0000201\nc TYPE1 192.0.2.7\nd TYPE65280 \\# 0\n'), [
    'a.example.test.\t1\tIN\tTYPE65280\t\\# 3 ABCDEF',
    'b.example.test.\t1\tIN\tA\t192.0.2.1',
    'c.example.test.\t1\tIN\tA\t192.0.2.7',
    'd.example.test.\t1\tIN\tTYPE65280\t\\# 0',
  ]);
  assert.equal(errorOf('$TTL 1\na FOO 1\n'), '2:3: unknown record type "FOO": expected a TTL, class or record type');
  assert.equal(errorOf('$TTL 1\na AXFR 1\n'), '2:3: AXFR is a query type, not allowed in zone data');
  assert.equal(errorOf('$TTL 1\na A 192.0.2.300\n'), '2:5: "192.0.2.300" is not an IPv4 address');
  assert.equal(errorOf('$TTL 1\na MX 10\n'), '2:8: missing mail exchange name');
  assert.equal(errorOf('$TTL 1\na A 192.0.2.1 extra\n'), '2:15: unexpected "extra" after the record data');
});

test('ZoneError carries the record type of a bad RDATA', () => {
  try {
    parseZoneText('$TTL 1\na MX x y\n', { origin: 'x.' });
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof ZoneError);
    assert.equal(e.rrtype, RRType.MX);
    assert.equal(e.fatal, false);
  }
});

test('error-collecting mode skips bad records and stops at a fatal error', () => {
  const errors: ZoneError[] = [];
  const rrs = parseZoneText('$TTL 1\na A 1.2.3\nb A 192.0.2.1\nc FOO x\n$ORIGIN ..\nd A 192.0.2.2\n', { origin: 'x.', onError: (e) => errors.push(e) });
  assert.deepEqual(lines(rrs), ['b.x.\t1\tIN\tA\t192.0.2.1']);
  assert.deepEqual(errors.map((e) => [e.line, e.fatal]), [[2, false], [4, false], [5, true]]);
});

test('$GENERATE: ranges with steps, $ and ${offset,width,base}, \\$', () => {
  assert.deepEqual(parse('$TTL 1\n$GENERATE 1-5/2 host-$ A 192.0.2.$\n'), [
    'host-1.example.test.\t1\tIN\tA\t192.0.2.1', 'host-3.example.test.\t1\tIN\tA\t192.0.2.3', 'host-5.example.test.\t1\tIN\tA\t192.0.2.5',
  ]);
  assert.deepEqual(parse('$GENERATE 10-11 ${0,4,x} 60 IN PTR h${-9,2,d}.\\$x.\n'), [
    '000a.example.test.\t60\tIN\tPTR\th01.\\$x.', '000b.example.test.\t60\tIN\tPTR\th02.\\$x.',
  ]);
  assert.equal(substitute('${0,3,X}-${1,0,o}-${0,0,n}-${0,6,N}', 0x1a, (r) => new Error(r)), '01A-33-a.1-A.1.0.');
  assert.equal(errorOf('$GENERATE 5-1 x A 192.0.2.1\n'), '1:11: bad $GENERATE range "5-1": stop is below start');
  assert.equal(errorOf('$GENERATE 1-2 x${0,z} 1 A 192.0.2.1\n'), '1:15: bad $GENERATE modifier "${0,z}": expected ${offset[,width[,base]]} with base d, o, x, X, n or N');
  assert.equal(errorOf('$GENERATE 1-2 x 1 A\n'), '1:1: $GENERATE: expected rdata after the type');
  assert.throws(() => parseZoneText('$GENERATE 1-100 x$ 1 A 192.0.2.1\n', { origin: 'x.', generateLimit: 10 }), /above the limit of 10/);
});

test('$INCLUDE: relative to the including file, origin and owner restored, $TTL kept (BIND)', async () => {
  const warnings: ZoneWarning[] = [];
  const got: ResourceRecord[] = [];
  for await (const rr of readZoneFile(join(fixtures, 'main.zone'), { origin: 'example.test.', warnings, positions: true })) got.push(rr);
  assert.deepEqual(lines(got), [
    'example.test.\t300\tIN\tSOA\tns1.example.test. hostmaster.example.test. 2024010101 3600 900 604800 60',
    'example.test.\t300\tIN\tNS\tns1.example.test.',
    'ns1.example.test.\t300\tIN\tA\t192.0.2.1',
    'sub.example.test.\t300\tIN\tA\t192.0.2.2',
    'www.sub.example.test.\t120\tIN\tA\t192.0.2.3',
    'nested.sub.example.test.\t120\tIN\tTXT\t"from nested.inc, relative to include/"',
    'after.example.test.\t120\tIN\tA\t192.0.2.9',
  ]);
  const pos = recordPosition(got[5]!)!;
  assert.ok(pos.file.endsWith(join('include', 'nested.inc')));
  assert.deepEqual([pos.line, pos.col], [1, 1]);
  assert.equal(warnings.length, 0);
});

test('$INCLUDE: loops and missing files are fatal errors at the file name', async () => {
  await assert.rejects(async () => {
    for await (const _ of readZoneFile(join(fixtures, 'loop-a.zone'), { origin: 'loop.test.' })) void _;
  }, (e: unknown) => e instanceof ZoneError && e.fatal && e.line === 2 && e.col === 10 && /\$INCLUDE loop/.test(e.reason) && e.file.endsWith('loop-b.zone'));
  assert.throws(() => parseZoneText('$INCLUDE nope.zone\n', { origin: 'x.', file: join(fixtures, 'x.zone') }),
    (e: unknown) => e instanceof ZoneError && e.line === 1 && e.col === 10 && /cannot open \$INCLUDE file/.test(e.reason));
});

test('readZoneFile and parseZoneText agree; a missing file is a ZoneError', async () => {
  const { readFileSync } = await import('node:fs');
  const path = join(fixtures, 'good.zone');
  const streamed: ResourceRecord[] = [];
  for await (const rr of readZoneFile(path, { origin: 'good.test.' })) streamed.push(rr);
  assert.deepEqual(lines(streamed), lines(parseZoneText(readFileSync(path, 'utf8'), { origin: 'good.test.', file: path })));
  assert.equal(streamed.length, 11);
  await assert.rejects(async () => {
    for await (const _ of readZoneFile(join(fixtures, 'absent.zone'), { origin: 'x.' })) void _;
  }, /cannot open zone file: ENOENT/);
});

test('streaming: a large generated file parses record by record', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'zone-'));
  try {
    const n = 20000;
    let text = '$ORIGIN big.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n';
    for (let i = 0; i < n; i++) text += `h${i} ( A\n 192.0.2.${i % 256} ) ; ${'x'.repeat(i % 50)}\n`;
    writeFileSync(join(dir, 'big.zone'), text);
    let count = 0;
    let last: ResourceRecord | undefined;
    for await (const rr of readZoneFile(join(dir, 'big.zone'), { origin: Name.parse('big.test.') })) {
      count++;
      last = rr;
    }
    t.diagnostic(`${count} records streamed from ${text.length} bytes`);
    assert.equal(count, n + 1);
    assert.equal(recordToText(last!), `h${n - 1}.big.test.\t60\tIN\tA\t192.0.2.${(n - 1) % 256}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RecordPositions: a table of positions per parse, found also for copies sharing the data', () => {
  const table = new RecordPositions();
  const text = '$TTL 60\n@ SOA ns h 1 2 3 4 5\n  NS ns\nns A 192.0.2.1\nns AAAA ::1\n$GENERATE 1-3 h$ A 192.0.2.$\n';
  const rrs = parseZoneText(text, { origin: 'p.test.', file: 'p.zone', positions: table });
  assert.equal(table.size, rrs.length);
  assert.deepEqual(rrs.map((rr) => { const p = table.get(rr)!; return `${p.file}:${p.line}:${p.col}`; }),
    ['p.zone:2:1', 'p.zone:3:3', 'p.zone:4:1', 'p.zone:5:1', 'p.zone:6:1', 'p.zone:6:1', 'p.zone:6:1']);
  assert.deepEqual(table.get({ ...rrs[3]!, ttl: 1 }), { file: 'p.zone', line: 5, col: 1 });
  assert.equal(recordPosition(rrs[0]!), undefined, 'the table, not the global map, holds them');
  assert.equal(table.get({ ...rrs[0]!, data: { ...rrs[0]!.data } }), undefined);
  // A repeated owner is one Name object (one key, no copies in a zone tree).
  assert.equal(rrs[2]!.name, rrs[3]!.name);
  assert.notEqual(rrs[4]!.name, rrs[5]!.name);
});

test('a repeated owner after an $INCLUDE is parsed again, not mixed up with the included owners', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zone-owner-'));
  try {
    writeFileSync(join(dir, 'inc.zone'), 'www A 192.0.2.9\n');
    writeFileSync(join(dir, 'main.zone'), '$TTL 60\nwww A 192.0.2.1\n$INCLUDE inc.zone sub.o.test.\nwww AAAA ::1\n');
    const rrs = parseZoneText(readFileSync(join(dir, 'main.zone'), 'utf8'), { origin: 'o.test.', file: join(dir, 'main.zone') });
    assert.deepEqual(rrs.map((r) => r.name.toString()), ['www.o.test.', 'www.sub.o.test.', 'www.o.test.']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
