// What a scanner sees: `nmap --script dns-zone-transfer,dns-nsid` against Portcullis running the
// bundled example config (examples/portcullis.yaml, only the addresses moved to a test port)
// finds nothing: no zone transfer, no version, no id, no NSID. A control run against the same
// config with NSID and identity switched on shows the scripts do report what is there; dig
// confirms an AXFR without the key is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portcullisBinary, query, requirePeer, requirePortcullis } from './harness/index.js';
import { repoRoot, run } from './harden-lib.js';

const ADDRESS = '127.0.0.96';
const PORT = 16440;

/** examples/portcullis.yaml with listen, control and upstream addresses moved to loopback test ports. */
function exampleConfig(dir: string, port: number, leaky = false): string {
  const root = repoRoot();
  let text = readFileSync(join(root, 'examples', 'portcullis.yaml'), 'utf8');
  text = text.replace(/^  - 127\.0\.0\.1:5353.*$/m, `  - "${ADDRESS}:${port}"`);
  text = text.replace(/control: \{ listen: 127\.0\.0\.1:8053 \}/, `control: { listen: "${ADDRESS}:${port + 1}" }`);
  text = text.replace('zones/example.test.zone', join(root, 'examples', 'zones', 'example.test.zone'));
  // Recursion stays on loopback: root hints and query port point at a closed local port.
  writeFileSync(join(dir, 'root.hints'), '. 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.97\n');
  text = text.replace(/^  allow: \[localhost\].*$/m, `  allow: [localhost]\n  root-hints: "${join(dir, 'root.hints')}"\n  query-port: ${PORT + 9}`);
  if (leaky) {
    text = text.replace(/^identity: \{\}.*$/m, 'identity: { version: "9.9.9-leaky", server-id: leaky-id }\nnsid: leaky-ns1');
  }
  assert.ok(text.includes(`${ADDRESS}:${port}`) && text.includes('root.hints') && (!leaky || text.includes('leaky-ns1')), 'example config rewritten');
  const file = join(dir, 'portcullis.yaml');
  writeFileSync(file, text);
  return file;
}

async function serve(config: string, port: number): Promise<{ stop: () => Promise<void>; output: () => string }> {
  const child = spawn(process.execPath, [portcullisBinary()!, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    const k = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(k);
  };
  for (const deadline = Date.now() + 20000; Date.now() < deadline;) {
    if (child.exitCode !== null) break;
    if (out.includes('"msg":"ready"')) {
      try {
        await query({ address: ADDRESS, port }, 'example.test', 'SOA', { timeoutMs: 500, attempts: 1 });
        return { stop, output: () => out };
      } catch { /* not yet */ }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`portcullis did not start\n${out.slice(-3000)}`);
}

/** nmap with our test port known as "domain" (the scripts' port rule), TCP and UDP. */
async function nmap(dir: string, port: number): Promise<string> {
  const services = join(dir, 'nmap-services');
  writeFileSync(services, `domain\t${port}/tcp\t0.5\ndomain\t${port}/udp\t0.5\n`);
  const r = await run('nmap', [
    '-n', '-Pn', '-sS', '-sU', '-p', `T:${port},U:${port}`, '--datadir', dir,
    '--script', 'dns-zone-transfer,dns-nsid', '--script-args', 'dns-zone-transfer.domain=example.test', ADDRESS,
  ], 120_000);
  return r.stdout + r.stderr;
}

const isRoot = process.getuid?.() === 0;

test('nmap dns-zone-transfer and dns-nsid find nothing on the example config (and do find NSID/id when switched on)', {
  skip: requirePortcullis() || requirePeer('nmap') || (!isRoot && process.env.CI !== 'true' ? 'nmap SYN/UDP scans need root' : false),
  timeout: 240_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-nmap-'));
  try {
    const server = await serve(exampleConfig(dir, PORT), PORT);
    let out: string;
    let axfr: string;
    try {
      out = await nmap(dir, PORT);
      const r = await run('dig', [`@${ADDRESS}`, '-p', String(PORT), '+tries=1', '+time=3', 'example.test', 'AXFR']);
      axfr = r.stdout + r.stderr;
    } finally {
      await server.stop();
    }
    t.diagnostic(out.split('\n').filter((l) => l.trim()).join(' | '));
    assert.match(out, new RegExp(`${PORT}/tcp\\s+open`), `nmap saw the TCP port\n${out}`);
    assert.doesNotMatch(out, /dns-zone-transfer:/, 'no zone transfer output');
    assert.doesNotMatch(out, /dns-nsid:/, 'no NSID, id.server or version.bind output');
    assert.doesNotMatch(out, /IN\s+SOA|bind\.version|id\.server/i);
    assert.match(axfr, /Transfer failed|REFUSED/i, `dig AXFR without the key is refused\n${axfr}`);
    assert.doesNotMatch(axfr, /IN\s+SOA/, 'no zone data handed out');

    // Control: the same config telling who it is. The scripts must see it.
    const leaky = await serve(exampleConfig(dir, PORT + 2, true), PORT + 2);
    let leakOut: string;
    try {
      leakOut = await nmap(dir, PORT + 2);
    } finally {
      await leaky.stop();
    }
    t.diagnostic(leakOut.split('\n').filter((l) => l.trim()).join(' | '));
    assert.match(leakOut, /dns-nsid:/, `the control run reports what is exposed\n${leakOut}`);
    assert.match(leakOut, /leaky/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('portcullis audit against the example config: no high findings', { skip: requirePortcullis(), timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
  const port = PORT + 4;
  try {
    const server = await serve(exampleConfig(dir, port), port);
    let r;
    try {
      r = await run(process.execPath, [portcullisBinary()!, 'audit', ADDRESS, '--port', String(port), '--zone', 'example.test', '--json'], 100_000);
    } finally {
      await server.stop();
    }
    const report = JSON.parse(r.stdout) as { reachable: boolean; findings: Array<{ id: string; severity: string; evidence: string }>; checks: unknown[]; probes: number };
    t.diagnostic(`audit: ${report.probes} probes, ${report.checks.length} checks; findings: ${report.findings.map((f) => `${f.id} (${f.severity})`).join(', ') || 'none'}`);
    assert.equal(report.reachable, true);
    assert.ok(report.checks.length > 5, 'the checks ran');
    const high = report.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
    assert.deepEqual(high.map((f) => `${f.id}: ${f.evidence}`), [], 'no high findings');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
