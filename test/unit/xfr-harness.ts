// A Portcullis pipeline with the xfr step, on loopback, without the config file or CLI:
// front step, xfr step (outermost), authoritative step, over one UDP and one TCP listener.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name } from '../../src/wire/index.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildZone, type Zone } from '../../src/zone/zone.js';
import { ZoneSet } from '../../src/authoritative/zone-set.js';
import { AuthoritativeStep } from '../../src/authoritative/step.js';
import { FrontStep } from '../../src/server/front.js';
import { composePipeline } from '../../src/server/pipeline.js';
import { UdpListener } from '../../src/transport/udp.js';
import { TcpListener } from '../../src/transport/tcp.js';
import { parseListenAddress } from '../../src/transport/address.js';
import { XfrService, type XfrConfig, type XfrLogger, type XfrServiceOptions } from '../../src/xfr/service.js';

export const SECRET = Buffer.from('portcullis xfr unit test secret!').toString('base64');
export const KEYS = { 'xfr-key': { algorithm: 'hmac-sha256', secret: SECRET }, 'other-key': { algorithm: 'hmac-sha512', secret: SECRET } };

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `pc-xfr-${tag}-`));
}

export function zoneText(origin: string, serial: number, extra: string[] = [], soaTimers = '3600 600 86400 300'): string {
  return [
    `$ORIGIN ${origin}.`,
    `@ 3600 IN SOA ns1 hostmaster ${serial} ${soaTimers}`,
    '@ 3600 IN NS ns1',
    'ns1 3600 IN A 127.0.0.1',
    'www 300 IN A 192.0.2.1',
    'www 300 IN AAAA 2001:db8::1',
    'mail 300 IN MX 10 www',
    ...extra,
    '',
  ].join('\n');
}

/** Reads a zone file the way the server does (parse + build). */
export function loadZoneFile(origin: string, file: string, text: string): Zone {
  writeFileSync(file, text);
  const o = Name.parse(origin + '.');
  return buildZone(o, parseZoneText(text, { origin: o }));
}

export interface Lines {
  lines: string[];
  logger: XfrLogger;
}

export function captureLogger(): Lines {
  const lines: string[] = [];
  const put = (level: string) => (obj: object, msg?: string) => {
    lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Error ? v.message : v))}`);
  };
  return { lines, logger: { info: put('info'), warn: put('warn'), error: put('error'), debug: put('debug') } };
}

export interface Node {
  readonly xfr: XfrService;
  readonly address: string;
  readonly port: number;
  readonly log: Lines;
  zones(): ZoneSet;
  stop(): Promise<void>;
}

/** Starts the pipeline on `address:port` (UDP and TCP) serving what the xfr service returns. */
export async function startNode(address: string, port: number, config: XfrConfig, fileZones: Zone[], opts: { syncIntervalMs?: number; signerFor?: XfrServiceOptions['signerFor'] } = {}): Promise<Node> {
  const log = captureLogger();
  let set = new ZoneSet([]);
  const xfr: XfrService = new XfrService({ logger: log.logger, onChange: () => (set = new ZoneSet(xfr.zones())), notifyRetryMs: 200, notifyTries: 3, syncIntervalMs: opts.syncIntervalMs, signerFor: opts.signerFor });
  set = new ZoneSet(await xfr.configure(config, fileZones));
  const handler = composePipeline([new FrontStep(), xfr.step, new AuthoritativeStep(() => set)]);
  const a = parseListenAddress(`${address}:${port}`);
  const udp = new UdpListener(a, handler);
  await udp.start();
  const tcp = new TcpListener(a, handler, { idleTimeoutMs: 30_000 });
  await tcp.start();
  return {
    xfr, address, port, log,
    zones: () => set,
    stop: async () => {
      await udp.close(100);
      await tcp.close(100);
      await xfr.stop();
    },
  };
}

/** Polls `cond` every 50 ms, at most `tries` times; returns whether it became true. */
export async function eventually(cond: () => boolean | Promise<boolean>, tries = 200): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
