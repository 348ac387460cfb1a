import { EdnsOptionCode, getOption, Name, RRClass, RRType, type TxtData } from '../../wire/index.js';
import { describeOutcome, note, query, report, tryTcp, tryUdp } from '../probe.js';
import type { AuditContext } from '../types.js';

/** The CHAOS names servers answer with their version or identity (RFC 4892). */
export const IDENTITY_NAMES = ['version.bind.', 'version.server.', 'hostname.bind.', 'id.server.'];

function printable(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\${c.charCodeAt(0).toString().padStart(3, '0')}`);
}

/** `version-disclosure`: CH TXT identity names and the NSID option (RFC 5001). */
export async function checkVersion(ctx: AuditContext): Promise<void> {
  const send = ctx.udpAnswers ? tryUdp : tryTcp;
  const disclosed: string[] = [];
  const tried: string[] = [];
  for (const n of IDENTITY_NAMES) {
    const o = await send(ctx, query(n, RRType.TXT, { cls: RRClass.CH }));
    tried.push(`${n} CH TXT: ${describeOutcome(o)}`);
    if (!o.ok || o.res.message.rcode !== 0) continue;
    const texts = o.res.message.answer
      .filter((rr) => rr.type === RRType.TXT && !(rr.data instanceof Uint8Array))
      .map((rr) => (rr.data as TxtData).strings.map(printable).join(''))
      .filter((t) => t.length > 0);
    if (texts.length) disclosed.push(`${n} CH TXT "${texts.join('", "')}"`);
  }
  const zone = ctx.options.zones[0] ?? Name.root;
  const nsidQuery = query(zone, RRType.SOA, { edns: { options: [{ code: EdnsOptionCode.NSID, data: new Uint8Array(0) }] } });
  const o = await send(ctx, nsidQuery);
  const nsid = o.ok ? getOption(o.res.message.edns, EdnsOptionCode.NSID) : undefined;
  tried.push(`NSID: ${nsid ? `${nsid.data.length} bytes` : 'not sent'}`);
  if (nsid && nsid.data.length > 0) disclosed.push(`NSID "${printable(nsid.data)}" (hex ${Buffer.from(nsid.data).toString('hex')})`);
  if (disclosed.length) {
    report(ctx, {
      id: 'version-disclosure',
      severity: 'warning',
      title: 'The server discloses its software version or host identity',
      evidence: disclosed.join('; '),
    });
  } else note(ctx, 'version-disclosure', 'pass', tried.join('; '));
}
