import type { ClientError, QueryResult } from '../transport/client.js';
import { makeMessage, Name, RRClass, typeToString, rcodeToString, type Edns, type EdnsOption, type Message } from '../wire/index.js';
import { isClientError, type AuditContext, type CheckStatus, type Observation } from './types.js';

export interface ProbeInit {
  cls?: number;
  rd?: boolean;
  /** EDNS fields; `true` means a plain EDNS(0) OPT with a 1232-byte payload. */
  edns?: Partial<Edns> | true;
  opcode?: number;
  /** The header's reserved Z bit. */
  z?: boolean;
}

/** A query for `name type`, ID left at 0 (the client picks a random one). */
export function query(name: Name | string, type: number, init: ProbeInit = {}): Message {
  const qname = typeof name === 'string' ? Name.parse(name) : name;
  let edns: Edns | undefined;
  if (init.edns) {
    const e = init.edns === true ? {} : init.edns;
    edns = { udpSize: e.udpSize ?? 1232, version: e.version ?? 0, do: e.do ?? false, z: e.z ?? 0, options: e.options ?? ([] as EdnsOption[]) };
  }
  return makeMessage({
    rd: init.rd ?? false,
    opcode: init.opcode ?? 0,
    z: init.z ?? false,
    question: [{ name: qname, type, class: init.cls ?? RRClass.IN }],
    edns,
  });
}

export type Outcome = { ok: true; res: QueryResult } | { ok: false; error: ClientError };

/** Sends over UDP, keeping the sizes for the amplification check; never throws. */
export async function tryUdp(ctx: AuditContext, msg: Message, label?: string): Promise<Outcome> {
  try {
    const res = await ctx.client.udp(msg);
    ctx.samples.push({
      label: label ?? describeQuery(msg),
      querySize: res.querySize,
      responseSize: res.size,
      tc: res.message.tc,
    });
    return { ok: true, res };
  } catch (e) {
    if (isClientError(e)) return { ok: false, error: e };
    throw e;
  }
}

export async function tryTcp(ctx: AuditContext, msg: Message): Promise<Outcome> {
  try {
    return { ok: true, res: await ctx.client.tcp(msg) };
  } catch (e) {
    if (isClientError(e)) return { ok: false, error: e };
    throw e;
  }
}

/** `name TYPE [CLASS]` with the interesting flags, for evidence lines. */
export function describeQuery(msg: Message): string {
  const q = msg.question[0];
  const head = q ? `${q.name} ${typeToString(q.type)}${q.class !== RRClass.IN ? ' ' + (q.class === RRClass.CH ? 'CH' : `CLASS${q.class}`) : ''}` : '(no question)';
  const bits: string[] = [];
  if (msg.rd) bits.push('+rd');
  if (msg.edns) bits.push(`edns${msg.edns.version}/${msg.edns.udpSize}${msg.edns.do ? '+do' : ''}`);
  return bits.length ? `${head} (${bits.join(' ')})` : head;
}

/** `NOERROR qr aa ra, 3 answers, 512 bytes` */
export function describeAnswer(res: QueryResult): string {
  const m = res.message;
  const flags = (['qr', 'aa', 'tc', 'rd', 'ra', 'ad'] as const).filter((f) => m[f]).join(' ');
  return `${rcodeToString(m.rcode)} [${flags}], ${m.answer.length} answer${m.answer.length === 1 ? '' : 's'}, ${res.size} bytes`;
}

export function describeOutcome(o: Outcome): string {
  return o.ok ? describeAnswer(o.res) : `${o.error.kind}: ${o.error.message}`;
}

export function note(ctx: AuditContext, check: string, status: CheckStatus, detail: string): void {
  ctx.checks.push({ check, status, detail });
}

export function report(ctx: AuditContext, obs: Observation): void {
  ctx.observations.push(obs);
  note(ctx, obs.id, 'finding', `${obs.severity}: ${obs.title}`);
}
