import { queryTcp, queryUdp, transferAxfr, type ServerAddress } from '../transport/client.js';
import type { Message } from '../wire/index.js';
import type { AuditClient } from './types.js';

/** The real network client: every probe goes to `server` only, with `timeout` per probe. */
export function networkClient(server: ServerAddress, timeout: number): AuditClient {
  let probes = 0;
  return {
    get probes() {
      return probes;
    },
    udp(msg: Message) {
      probes++;
      return queryUdp(server, msg, { timeout });
    },
    tcp(msg: Message) {
      probes++;
      return queryTcp(server, msg, { timeout });
    },
    axfr(msg: Message) {
      probes++;
      // A transfer streams many messages: allow it a few probe timeouts, not an unbounded wait.
      return transferAxfr(server, msg, { timeout: timeout * 5, maxRecords: 100_000 });
    },
  };
}
