// Test support for the wiring tests: in-process servers on 127.0.0.70-79 (ports 16200-16299),
// and UDP/TCP clients that choose their source address (127.0.0.2, .3, ... are different clients).
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { decodeEde, decodeMessage, EdnsOptionCode, getOption, type Message } from '../../src/wire/index.js';
import { parseConfigText } from '../../src/server/config.js';
import { createLogger } from '../../src/server/log.js';
import { PortcullisServer } from '../../src/server/server.js';

export { query, queryMessage, TcpClient, runCli, startServe, repoRoot } from './server-harness.js';

// Resolvers in tests never leave loopback.
process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'pc-wiring-'));
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export interface Running {
  server: PortcullisServer;
  /** Every log line as parsed JSON. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Starts a server in this process from config text written into `dir`. */
export async function runServer(dir: string, configText: string): Promise<Running> {
  const file = join(dir, 'portcullis.yaml');
  writeFileSync(file, configText);
  const config = parseConfigText(configText, file);
  const logs: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', stream, pretty: false });
  const server = await PortcullisServer.create({ config, configFile: file, logger });
  await server.bind();
  return { server, logs, stop: () => server.stop(500) };
}

/** One UDP exchange from a chosen source address. */
export function udpFrom(source: string, port: number, wire: Uint8Array, host: string, timeoutMs = 4000): Promise<{ msg: Message; size: number }> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port} to ${source}`));
    }, timeoutMs);
    s.on('message', (buf) => {
      clearTimeout(t);
      s.close();
      try {
        resolve({ msg: decodeMessage(buf), size: buf.length });
      } catch (e) {
        reject(e);
      }
    });
    s.bind({ address: source, port: 0 }, () => s.send(wire, port, host));
  });
}

/** Sends one datagram from `source`; resolves with the answer or undefined after `waitMs`. */
export function udpMaybe(source: string, port: number, wire: Uint8Array, host: string, waitMs = 400): Promise<Message | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, waitMs);
    s.on('message', (buf) => {
      clearTimeout(t);
      s.close();
      resolve(decodeMessage(buf));
    });
    s.bind({ address: source, port: 0 }, () => s.send(wire, port, host));
  });
}

export function edeOf(m: Message): number | undefined {
  const o = getOption(m.edns, EdnsOptionCode.EDE);
  return o ? decodeEde(o).infoCode : undefined;
}

export const ROOT_ZONE = `$TTL 3600
.        IN SOA ns. hostmaster.root. 1 7200 3600 1209600 300
.        IN NS  ns.
ns.      IN A   127.0.0.71
www.ext. IN A   192.0.2.99
mail.ext. IN MX 10 www.ext.
`;

export const ROOT_HINTS = `.  3600000 IN NS ns.
ns. 3600000 IN A 127.0.0.71
`;

/** The loopback "Internet" for recursion tests: a Portcullis serving the root zone on 127.0.0.71. */
export async function startRoot(port: number): Promise<Running> {
  const dir = tempDir({ 'root.zone': ROOT_ZONE });
  return runServer(dir, `listen: ["127.0.0.71:${port}"]\ncookies: { enabled: false }\nzones:\n  - name: "."\n    file: root.zone\n`);
}

export function exampleZone(address: string, serial = 1): string {
  return `$TTL 300
@    IN SOA ns1.example.test. hostmaster.example.test. ${serial} 7200 3600 1209600 300
     IN NS  ns1
ns1  IN A   192.0.2.53
www  IN A   ${address}
big  IN TXT "${'a'.repeat(200)}"
     IN TXT "${'b'.repeat(200)}"
     IN TXT "${'c'.repeat(200)}"
`;
}
