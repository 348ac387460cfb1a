import { RRType } from '../../wire/index.js';
import { describeOutcome, note, query, report, tryTcp, tryUdp } from '../probe.js';
import type { AuditContext } from '../types.js';

/**
 * `udp-open`, `tcp-open`, `tcp-missing`, `unreachable`: does anything answer on the port?
 * Any DNS answer counts, a REFUSED too. UDP gets one retry because a lost datagram is not a
 * closed port.
 */
export async function checkReachability(ctx: AuditContext): Promise<void> {
  const { port } = ctx.options;
  const name = ctx.options.zones[0] ?? '.';
  const msg = query(name, RRType.SOA);
  let udp = await tryUdp(ctx, msg, `${name} SOA (reachability)`);
  if (!udp.ok && udp.error.kind === 'timeout') udp = await tryUdp(ctx, msg, `${name} SOA (reachability)`);
  const tcp = await tryTcp(ctx, msg);
  ctx.udpAnswers = udp.ok;
  ctx.tcpAnswers = tcp.ok;
  if (udp.ok) {
    report(ctx, { id: 'udp-open', severity: 'info', title: `DNS answers on UDP port ${port}`, evidence: `${name} SOA over UDP: ${describeOutcome(udp)}` });
  } else note(ctx, 'udp-open', 'pass', `no DNS answer over UDP (${describeOutcome(udp)})`);
  if (tcp.ok) {
    report(ctx, { id: 'tcp-open', severity: 'info', title: `DNS answers on TCP port ${port}`, evidence: `${name} SOA over TCP: ${describeOutcome(tcp)}` });
  } else note(ctx, 'tcp-open', 'pass', `no DNS answer over TCP (${describeOutcome(tcp)})`);
  if (udp.ok && !tcp.ok) {
    report(ctx, {
      id: 'tcp-missing',
      severity: 'warning',
      title: 'Answers over UDP but not over TCP: large and truncated answers will fail',
      evidence: `UDP: ${describeOutcome(udp)}; TCP: ${describeOutcome(tcp)}. RFC 7766 requires DNS over TCP.`,
    });
  }
  if (!udp.ok && !tcp.ok) {
    report(ctx, {
      id: 'unreachable',
      severity: 'high',
      title: `No DNS answer from the target on port ${port}`,
      evidence: `UDP: ${describeOutcome(udp)}; TCP: ${describeOutcome(tcp)}`,
    });
  }
}
