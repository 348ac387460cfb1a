// Table-test support (DESIGN.md "Tests"): zones written as record lines, questions asked of a
// Step in-process, answers compared as sets of zone-file lines. Used by the unit tests and
// usable by differential tests; nothing here touches the network.
import assert from 'node:assert/strict';
import type { Endpoint, Reply, Request, Step } from '../transport/handler.js';
import {
  classFromString, makeMessage, Name, Opcode, rcodeToString, recordFromText, recordToText, typeFromString,
  type Message, type ResourceRecord,
} from '../wire/index.js';
import { buildZone, type Zone } from '../zone/zone.js';

/** One question and the response expected, sections as zone-file lines compared as sets. */
export interface DnsCase {
  /** What the case shows, e.g. "RFC 4592 §2.2.1: host3.example MX from *.example". */
  readonly title?: string;
  readonly qname: string;
  readonly qtype: string;
  readonly qclass?: string;
  /** EDNS DO bit in the query. */
  readonly do?: boolean;
  /** RD in the query (default false); a response copies it. */
  readonly rd?: boolean;
  /** Expected response code by name, or "NEXT" when the step must hand the query on. */
  readonly rcode: string;
  /** Expected header flags, e.g. "qr aa" (compared as a set: qr aa tc rd ra ad cd). */
  readonly flags?: string;
  readonly answer?: readonly string[];
  readonly authority?: readonly string[];
  readonly additional?: readonly string[];
}

/**
 * Record lines to records: one `owner [TTL] [CLASS] TYPE RDATA` per line, owners relative to
 * `origin`; blank lines and `;` comments are skipped. Not a zone-file parser (no $ORIGIN,
 * continuation lines or blank owners): just enough to write test zones.
 */
export function recordsFromText(origin: string | Name, text: string, defaultTtl = 3600): ResourceRecord[] {
  const o = typeof origin === 'string' ? Name.parse(origin) : origin;
  const out: ResourceRecord[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) continue;
    out.push(recordFromText(line, o, defaultTtl));
  }
  return out;
}

export function zoneFromText(origin: string, text: string, defaultTtl = 3600): Zone {
  const o = Name.parse(origin);
  return buildZone(o, recordsFromText(o, text, defaultTtl));
}

/** RFC 3597 text for SRV RDATA, for zones written before the SRV codec exists. */
export function srvGeneric(priority: number, weight: number, port: number, target: string): string {
  const name = Name.parse(target).toWire();
  const bytes = [priority >> 8, priority & 255, weight >> 8, weight & 255, port >> 8, port & 255, ...name];
  return `\\# ${bytes.length} ${Buffer.from(bytes).toString('hex')}`;
}

const LOOPBACK: Endpoint = { address: '127.0.0.1', port: 40000, family: 4 };

/** A Request as a transport would hand it over, for in-process tests. */
export function requestFor(message: Message): Request {
  return {
    message, raw: new Uint8Array(0), client: LOOPBACK, local: { ...LOOPBACK, port: 5353 }, transport: 'udp',
    listener: '127.0.0.1:5353', receivedAt: 0n, state: {},
  };
}

/** The query message of a case. */
export function queryFor(c: DnsCase, id = 0x4242): Message {
  const type = typeFromString(c.qtype);
  const cls = classFromString(c.qclass ?? 'IN');
  if (type === undefined) throw new Error(`unknown qtype ${c.qtype}`);
  if (cls === undefined) throw new Error(`unknown qclass ${c.qclass}`);
  return makeMessage({
    id, opcode: Opcode.QUERY, rd: c.rd === true,
    question: [{ name: Name.parse(c.qname), type, class: cls }],
    edns: c.do ? { udpSize: 1232, version: 0, do: true, z: 0, options: [] } : undefined,
  });
}

/** Header flags of a message as a sorted list of names. */
export function flagsOf(m: Message): string[] {
  const out: string[] = [];
  for (const f of ['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const) if (m[f]) out.push(f);
  return out.sort();
}

/** Canonical text lines of records, sorted: the set form sections are compared in. */
export function linesOf(records: readonly ResourceRecord[]): string[] {
  return records.map((r) => recordToText(r)).sort();
}

function expectedLines(lines: readonly string[] | undefined): string[] {
  return linesOf((lines ?? []).map((l) => recordFromText(l, Name.root)));
}

const NEXT_MARK: Reply = { reason: 'next-step' };

/** Asks `step` the case's question and asserts the response; returns it for further checks. */
export async function checkCase(step: Step, c: DnsCase): Promise<Message | undefined> {
  const query = queryFor(c);
  const req = requestFor(query);
  const reply = await step.handle(req, async () => NEXT_MARK);
  const label = c.title ?? `${c.qname} ${c.qclass ?? 'IN'} ${c.qtype}`;
  if (c.rcode === 'NEXT') {
    assert.equal(reply, NEXT_MARK, `${label}: expected the query to be handed on`);
    return undefined;
  }
  assert.notEqual(reply, NEXT_MARK, `${label}: handed on instead of answered`);
  const m = reply.message;
  assert.ok(m, `${label}: no message in the reply`);
  assert.equal(rcodeToString(m.rcode), c.rcode.toUpperCase(), `${label}: rcode`);
  if (c.flags !== undefined) assert.deepEqual(flagsOf(m), c.flags.split(/\s+/).filter(Boolean).sort(), `${label}: flags`);
  assert.deepEqual(linesOf(m.answer), expectedLines(c.answer), `${label}: answer section`);
  assert.deepEqual(linesOf(m.authority), expectedLines(c.authority), `${label}: authority section`);
  assert.deepEqual(linesOf(m.additional), expectedLines(c.additional), `${label}: additional section`);
  assert.equal(m.id, query.id, `${label}: id copied`);
  assert.deepEqual(
    m.question.map((q) => `${q.name.toString()} ${q.class} ${q.type}`),
    query.question.map((q) => `${q.name.toString()} ${q.class} ${q.type}`),
    `${label}: question copied as received, case included`,
  );
  assert.equal(m.edns, undefined, `${label}: no OPT before finalize`);
  return m;
}

