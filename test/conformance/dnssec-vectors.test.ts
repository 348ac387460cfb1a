import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Name, recordFromText, RRType, type ResourceRecord } from '../../src/wire/index.js';
import { keyTag, makeDs, dsMatches, verifyRrsig, nsec3Hash, base32hex, supportedAlgorithm, type DnskeyData, type DsData, type RrsigData } from '../../src/dnssec/index.js';
import { conformanceDir } from './dir.js';

const dir = () => conformanceDir();

test('RFC 5702, 6605, 8080 vectors: key tags, DS digests, signatures', () => {
  const data = JSON.parse(readFileSync(join(dir(), 'rfc-vectors/dnssec-and-cookie-vectors.json'), 'utf8'));
  let checks = 0;
  for (const rfc of ['rfc5702', 'rfc6605', 'rfc8080']) {
    for (const v of data[rfc] as Array<Record<string, any>>) {
      const key = recordFromText(v.dnskey);
      assert.equal(keyTag(key.data as DnskeyData), v.key_tag, `${rfc} ${v.section} key tag`);
      checks++;
      if (v.ds) {
        const ds = recordFromText(v.ds);
        assert.ok(dsMatches(key.name, ds.data as DsData, key.data as DnskeyData), `${rfc} ${v.section} DS`);
        const mine = makeDs(key.name, key.data as DnskeyData, (ds.data as DsData).digestType);
        assert.deepEqual([...mine.digest], [...(ds.data as DsData).digest]);
        checks++;
      }
      const rrset = (v.rrset as string[]).map((t) => recordFromText(t));
      const sig = recordFromText(v.rrsig).data as RrsigData;
      const now = sig.inception + 1;
      assert.deepEqual(verifyRrsig(rrset, sig, key.name, key.data as DnskeyData, now), { ok: true }, `${rfc} ${v.section} signature`);
      checks++;
    }
  }
  console.log(`RFC DNSSEC vectors: ${checks} checks passed`);
  assert.ok(checks >= 15);
});

interface Entry { question: string; answer: ResourceRecord[]; authority: ResourceRecord[] }

/** Reads Unbound's ENTRY_BEGIN ... ENTRY_END blocks (question text, answer and authority records). */
function parseEntries(text: string): Entry[] {
  const out: Entry[] = [];
  let cur: Entry | undefined;
  let section = '';
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    if (!line) continue;
    if (line === 'ENTRY_BEGIN') { cur = { question: '', answer: [], authority: [] }; section = ''; continue; }
    if (line === 'ENTRY_END') { if (cur) out.push(cur); cur = undefined; continue; }
    if (line.startsWith('SECTION')) { section = line.split(/\s+/)[1]!; continue; }
    if (!cur) continue;
    if (section === 'QUESTION') { cur.question = line; continue; }
    if (section !== 'ANSWER' && section !== 'AUTHORITY') continue;
    pending += ' ' + line;
    if ((pending.match(/\(/g) ?? []).length > (pending.match(/\)/g) ?? []).length) continue;
    (section === 'ANSWER' ? cur.answer : cur.authority).push(recordFromText(pending.trim()));
    pending = '';
  }
  return out;
}
const entries = (text: string): ResourceRecord[][] => parseEntries(text).map((e) => e.answer);

test('Unbound test_sigs.*: signatures verify, the ones marked bogus do not', () => {
  const vdir = join(dir(), 'unbound-testdata/vectors');
  const skippedWhy: string[] = [];
  let verified = 0;
  let rejected = 0;
  for (const f of readdirSync(vdir).filter((n) => n.startsWith('test_sigs.'))) {
    const [keysEntry, ...rest] = parseEntries(readFileSync(join(vdir, f), 'utf8'));
    const keys = keysEntry!.answer.filter((r) => r.type === RRType.DNSKEY);
    for (const entry of rest) {
      // An entry whose question name starts with "bogus" must fail (Unbound's convention).
      const bogus = entry.question.toLowerCase().startsWith('bogus');
      const sigs = entry.answer.filter((r) => r.type === RRType.RRSIG);
      if (sigs.length === 0) continue;
      const unsupported = sigs.map((r) => (r.data as RrsigData).algorithm).filter((a) => !supportedAlgorithm(a));
      if (unsupported.length) {
        skippedWhy.push(`${f}: algorithm ${unsupported[0]} (not implemented: GOST/DSA)`);
        continue;
      }
      // Unbound's rule, which we share: every algorithm of the key set must have a valid
      // signature (no downgrade to the weakest algorithm).
      const algs = new Set(keys.map((k) => (k.data as DnskeyData).algorithm));
      const ok = [...algs].every((alg) =>
        sigs.some((sigRR) => {
          const sig = sigRR.data as RrsigData;
          if (sig.algorithm !== alg) return false;
          const rrset = entry.answer.filter((r) => r.type === sig.typeCovered && r.name.equals(sigRR.name));
          return keys.some((k) => verifyRrsig(rrset, sig, k.name, k.data as DnskeyData, sig.inception + 1).ok);
        }),
      );
      assert.equal(ok, !bogus, `${f}: ${entry.question}`);
      if (ok) verified++;
      else rejected++;
    }
  }
  console.log(`Unbound test_sigs: ${verified} verified, ${rejected} bogus rejected, ${skippedWhy.length} skipped (${skippedWhy.join('; ')})`);
  assert.ok(verified >= 12, `verified ${verified}`);
  assert.ok(rejected >= 6, `rejected ${rejected}`);
});

test('Unbound test_ds.*: DS/DNSKEY pairs match or not as marked', () => {
  const vdir = join(dir(), 'unbound-testdata/vectors');
  let n = 0;
  for (const f of ['test_ds.sha1', 'test_ds.sha384']) {
    for (const e of parseEntries(readFileSync(join(vdir, f), 'utf8'))) {
      const ds = e.answer.find((r) => r.type === RRType.DS)!;
      const key = e.answer.find((r) => r.type === RRType.DNSKEY)!;
      const expect = e.question.toLowerCase().startsWith('yes');
      assert.equal(dsMatches(key.name, ds.data as DsData, key.data as DnskeyData), expect, `${f}: ${e.question} ${ds.name}`);
      n++;
    }
  }
  console.log(`Unbound test_ds: ${n} DS/DNSKEY pairs checked`);
  assert.ok(n >= 4);
});

test('Unbound test_nsec3_hash.1: NSEC3 owner hashes (RFC 5155 Appendix A and more)', () => {
  const text = readFileSync(join(dir(), 'unbound-testdata/vectors/test_nsec3_hash.1'), 'utf8');
  let n = 0;
  for (const e of parseEntries(text)) {
    const qname = Name.parse(e.question.split(/\s+/)[0]!);
    const nsec3 = e.authority.find((r) => r.type === RRType.NSEC3)!.data as { salt: Uint8Array; iterations: number };
    const expected = e.answer[0]!.name.labels[0]!.toLowerCase();
    assert.equal(base32hex(nsec3Hash(qname, nsec3.salt, nsec3.iterations)), expected, e.question);
    n++;
  }
  console.log(`Unbound test_nsec3_hash: ${n} hashes checked`);
  assert.ok(n >= 10);
});
