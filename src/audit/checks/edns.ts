import { encodeClientSubnet, encodeCookie, encodeExpire, EdnsOptionCode, Name, Rcode, rcodeToString, RRType, type Message } from '../../wire/index.js';
import type { QueryResult } from '../../transport/client.js';
import { note, query, report, tryTcp, tryUdp, type Outcome } from '../probe.js';
import type { AuditContext } from '../types.js';

/** An unassigned EDNS option code, as ISC's tester uses (must be ignored, RFC 6891 §6.1.2). */
const UNKNOWN_OPTION = 100;
/** An undefined EDNS flag bit (must be cleared in the answer, RFC 6891 §6.1.4). */
const UNKNOWN_FLAG = 0x0080;

interface EdnsProbe {
  name: string;
  msg: (zone: Name) => Message;
  tcp?: boolean;
  /** Returns the problems found ('' when compliant). `strict` when the target serves the zone. */
  expect: (res: QueryResult, strict: boolean) => string[];
}

function soaAnswered(m: Message, strict: boolean): string[] {
  if (!strict) return m.rcode === Rcode.FORMERR || m.rcode === Rcode.NOTIMP ? [`rcode ${rcodeToString(m.rcode)}`] : [];
  const out: string[] = [];
  if (m.rcode !== Rcode.NOERROR) out.push(`rcode ${rcodeToString(m.rcode)}, expected NOERROR`);
  else if (!m.answer.some((r) => r.type === RRType.SOA)) out.push('no SOA in the answer');
  return out;
}

function hasOpt0(m: Message): string[] {
  if (!m.edns) return ['no OPT record in the answer'];
  return m.edns.version !== 0 ? [`OPT version ${m.edns.version}, expected 0`] : [];
}

function badvers(m: Message): string[] {
  const out: string[] = [];
  if (m.rcode !== Rcode.BADVERS) out.push(`rcode ${rcodeToString(m.rcode)}, expected BADVERS`);
  if (!m.edns) out.push('no OPT record');
  else if (m.edns.version !== 0) out.push(`OPT version ${m.edns.version}, expected 0`);
  if (m.answer.some((r) => r.type === RRType.SOA)) out.push('answered the query anyway');
  return out;
}

function notEchoed(m: Message): string[] {
  return m.edns?.options.some((o) => o.code === UNKNOWN_OPTION) ? ['echoed the unknown option'] : [];
}

/** The probes of ISC's EDNS compliance tester (ednscomp), in its order and with its names. */
export const EDNS_PROBES: EdnsProbe[] = [
  { name: 'dns', msg: (z) => query(z, RRType.SOA), expect: (r, s) => [...soaAnswered(r.message, s), ...(r.message.edns ? ['OPT in the answer to a query without EDNS'] : [])] },
  { name: 'edns', msg: (z) => query(z, RRType.SOA, { edns: true }), expect: (r, s) => [...soaAnswered(r.message, s), ...hasOpt0(r.message)] },
  { name: 'edns1', msg: (z) => query(z, RRType.SOA, { edns: { version: 1 } }), expect: (r) => badvers(r.message) },
  {
    name: 'ednsopt',
    msg: (z) => query(z, RRType.SOA, { edns: { options: [{ code: UNKNOWN_OPTION, data: new Uint8Array(0) }] } }),
    expect: (r, s) => [...soaAnswered(r.message, s), ...hasOpt0(r.message), ...notEchoed(r.message)],
  },
  {
    name: 'edns1opt',
    msg: (z) => query(z, RRType.SOA, { edns: { version: 1, options: [{ code: UNKNOWN_OPTION, data: new Uint8Array(0) }] } }),
    expect: (r) => [...badvers(r.message), ...notEchoed(r.message)],
  },
  {
    name: 'do',
    msg: (z) => query(z, RRType.SOA, { edns: { do: true } }),
    expect: (r, s) => [...soaAnswered(r.message, s), ...hasOpt0(r.message), ...(r.message.edns && !r.message.edns.do ? ['DO bit not copied to the answer (RFC 3225)'] : [])],
  },
  {
    name: 'ednsflags',
    msg: (z) => query(z, RRType.SOA, { edns: { z: UNKNOWN_FLAG } }),
    expect: (r, s) => [...soaAnswered(r.message, s), ...hasOpt0(r.message), ...(r.message.edns && r.message.edns.z !== 0 ? [`unknown EDNS flag not cleared (0x${r.message.edns.z.toString(16)})`] : [])],
  },
  {
    name: 'optlist',
    msg: (z) => query(z, RRType.SOA, {
      edns: {
        options: [
          { code: EdnsOptionCode.NSID, data: new Uint8Array(0) },
          encodeClientSubnet({ family: 1, sourcePrefix: 0, scopePrefix: 0, address: '0.0.0.0' }),
          encodeExpire(),
          encodeCookie({ client: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }),
        ],
      },
    }),
    expect: (r, s) => [...soaAnswered(r.message, s), ...hasOpt0(r.message)],
  },
  {
    name: 'edns@512',
    msg: (z) => query(z, RRType.DNSKEY, { edns: { udpSize: 512, do: true } }),
    expect: (r) => (r.size > 512 ? [`${r.size}-byte answer to a 512-byte buffer`] : []),
  },
  {
    name: 'edns@100',
    // Buffers below 512 must be treated as 512 (RFC 6891 §6.2.5), not refused.
    msg: (z) => query(z, RRType.SOA, { edns: { udpSize: 100 } }),
    expect: (r, s) => [...soaAnswered(r.message, s), ...hasOpt0(r.message), ...(r.size > 512 ? [`${r.size}-byte answer`] : [])],
  },
  { name: 'zflag', msg: (z) => query(z, RRType.SOA, { z: true }), expect: (r, s) => [...soaAnswered(r.message, s), ...(r.message.z ? ['header Z bit not cleared'] : [])] },
  {
    name: 'opcode',
    msg: (z) => query(z, RRType.SOA, { opcode: 15 }),
    expect: (r) => (r.message.rcode !== Rcode.NOTIMP ? [`rcode ${rcodeToString(r.message.rcode)} for opcode 15, expected NOTIMP`] : []),
  },
  {
    name: 'type666',
    msg: (z) => query(z, 666),
    expect: (r, s) => {
      const m = r.message;
      if (!s) return m.rcode === Rcode.FORMERR || m.rcode === Rcode.NOTIMP ? [`rcode ${rcodeToString(m.rcode)}`] : [];
      return m.rcode !== Rcode.NOERROR || m.answer.length ? [`${rcodeToString(m.rcode)} with ${m.answer.length} answers, expected NOERROR without data`] : [];
    },
  },
  { name: 'tcp', tcp: true, msg: (z) => query(z, RRType.SOA), expect: (r, s) => soaAnswered(r.message, s) },
  { name: 'ednstcp', tcp: true, msg: (z) => query(z, RRType.SOA, { edns: true }), expect: (r, s) => [...soaAnswered(r.message, s), ...hasOpt0(r.message)] },
];

/**
 * `edns-compliance`: each probe of ISC's EDNS compliance tester, judged as the tester does.
 * Without `--zone` the probes ask about the root and only EDNS behaviour is judged (the target
 * need not serve the root).
 */
export async function checkEdns(ctx: AuditContext): Promise<void> {
  const zone = ctx.options.zones[0] ?? Name.root;
  const strict = ctx.options.zones.length > 0;
  const results: string[] = [];
  let failed = 0;
  for (const p of EDNS_PROBES) {
    if (p.tcp ? !ctx.tcpAnswers : !ctx.udpAnswers) {
      results.push(`${p.name}=skipped`);
      continue;
    }
    const msg = p.msg(zone);
    let o: Outcome = p.tcp ? await tryTcp(ctx, msg) : await tryUdp(ctx, msg, `${p.name} probe`);
    // An empty TC answer (an RRL slip, or an answer too big) says "ask over TCP": do so, as a
    // resolver would, except for the size probes where the truncation is the point.
    if (!p.tcp && !p.name.startsWith('edns@') && ctx.tcpAnswers && o.ok && o.res.message.tc && o.res.message.answer.length === 0) o = await tryTcp(ctx, msg);
    const problems = o.ok ? p.expect(o.res, strict) : [o.error.kind === 'timeout' ? 'no answer (timeout)' : `${o.error.kind}: ${o.error.message}`];
    if (problems.length) failed++;
    results.push(problems.length ? `${p.name}=FAIL (${problems.join(', ')})` : `${p.name}=ok`);
  }
  const detail = `${strict ? `${zone} SOA` : 'root (EDNS behaviour only)'}: ${results.join('; ')}`;
  if (failed) {
    report(ctx, {
      id: 'edns-compliance',
      severity: 'warning',
      title: `${failed} of ${EDNS_PROBES.length} EDNS compliance probes failed`,
      evidence: detail,
    });
  } else note(ctx, 'edns-compliance', 'pass', detail);
}
