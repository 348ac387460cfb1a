// The Prometheus registry is built, and prom-client loaded, only when metrics are first read:
// serving, counting and starting the control API leave it unloaded, and the first scrape sees
// everything counted before it. The test runner gives each test file its own process, so
// nothing else here has loaded prom-client first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode } from '../../src/wire/index.js';
import { promClientLoaded } from '../../src/monitor/prom.js';
import { exampleZone, query, runServer, tempDir, udpFrom } from './wiring-harness.js';

const HOST = '127.0.0.70';

test('metrics load on the first scrape: serving does not load prom-client; counts from before the scrape are all there', async () => {
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10') });
  const srv = await runServer(dir, `listen: ["${HOST}:16286"]
zones: [{ name: example.test, file: example.test.zone }]
control: { listen: "127.0.0.72:16287" }
`);
  const { startServerControl } = await import('../../src/server/control.js');
  const ctl = (await startServerControl(srv.server, { version: 'test' }))!;
  try {
    const monitor = srv.server.runtime.monitor;
    for (let i = 0; i < 3; i++) {
      const r = (await udpFrom('127.0.0.2', 16286, query('www.example.test.', 'A'), HOST)).msg;
      assert.equal(r.rcode, Rcode.NOERROR);
    }
    // What the resolver and the stream transports report, counted before any registry exists.
    monitor.upstream('ok');
    monitor.upstream('ok');
    monitor.upstream('timeout');
    monitor.tcpConnection(1);
    monitor.tcpConnection(1);
    monitor.tcpConnection(-1);
    assert.equal(promClientLoaded(), false, 'serving, counting and the control API did not load prom-client');

    const text = await (await fetch(`${ctl.control.url}/metrics`)).text();
    assert.equal(promClientLoaded(), true, 'the scrape loaded it');
    const value = (line: string): number | undefined => {
      const found = text.split('\n').find((l) => l.startsWith(line + ' '));
      return found === undefined ? undefined : Number(found.slice(line.length + 1));
    };
    assert.equal(value('portcullis_queries_total{transport="udp",type="A",view="",zone="example.test."}'), 3);
    assert.equal(value('portcullis_upstream_queries_total{outcome="ok"}'), 2);
    assert.equal(value('portcullis_upstream_queries_total{outcome="failure"}'), 1);
    assert.equal(value('portcullis_upstream_failures_total{reason="timeout"}'), 1);
    assert.equal(value('portcullis_tcp_connections'), 1);
    assert.equal(value('portcullis_tcp_connections_total'), 2);
    // Registered by the wiring before the registry existed (Monitor.addMetrics).
    assert.equal(value('portcullis_dnstap_connected'), 0);
    assert.equal(value('portcullis_resolver_queries_total'), 0);
    assert.match(text, /^portcullis_process_cpu_seconds_total /m, 'Node process metrics, named once');
    assert.match(text, /^portcullis_nodejs_heap_size_used_bytes /m);

    // Counting goes on after the registry exists, and a later registration joins at once.
    monitor.upstream('servfail');
    monitor.tcpConnection(-1);
    let late = 0;
    monitor.addMetrics((registry) => {
      late++;
      assert.equal(registry, monitor.metrics);
    });
    assert.equal(late, 1, 'registered at once');
    const again = await monitor.metrics.metrics();
    assert.match(again, /^portcullis_upstream_failures_total\{reason="servfail"\} 1$/m);
    assert.match(again, /^portcullis_upstream_queries_total\{outcome="failure"\} 2$/m);
    assert.match(again, /^portcullis_tcp_connections 0$/m);
  } finally {
    ctl.provider.stop();
    await ctl.control.close();
    await srv.stop();
  }
});
