import { randomBytes } from 'node:crypto';
import { decodeCookie, EdnsOptionCode, getOption, Name, RRType } from '../../wire/index.js';
import { describeOutcome, note, query, report, tryTcp, tryUdp } from '../probe.js';
import type { AuditContext } from '../types.js';

/**
 * `no-cookies`: send a client cookie (RFC 7873) and expect a server cookie back. Cookies let a
 * server tell real clients from spoofed sources, the basis of safe large UDP answers.
 */
export async function checkCookies(ctx: AuditContext): Promise<void> {
  const send = ctx.udpAnswers ? tryUdp : tryTcp;
  const zone = ctx.options.zones[0] ?? Name.root;
  const client = new Uint8Array(randomBytes(8));
  const o = await send(ctx, query(zone, RRType.SOA, { edns: { options: [{ code: EdnsOptionCode.COOKIE, data: client }] } }));
  let evidence = `${zone} SOA with a client cookie: ${describeOutcome(o)}`;
  if (o.ok) {
    const opt = getOption(o.res.message.edns, EdnsOptionCode.COOKIE);
    if (opt) {
      try {
        const c = decodeCookie(opt);
        const echoed = Buffer.from(c.client).equals(Buffer.from(client));
        if (c.server && echoed) {
          ctx.cookies = true;
          note(ctx, 'no-cookies', 'pass', `server cookie of ${c.server.length} bytes returned`);
          return;
        }
        evidence += echoed ? '; client cookie echoed without a server cookie' : '; a different client cookie came back';
      } catch (e) {
        evidence += `; malformed COOKIE option (${(e as Error).message})`;
      }
    } else evidence += '; no COOKIE option in the answer';
  }
  ctx.cookies = false;
  report(ctx, { id: 'no-cookies', severity: 'info', title: 'No DNS cookies (RFC 7873)', evidence });
}
