import { isIP } from 'node:net';

/** A parsed `listen` entry: `127.0.0.1:5353`, `[::1]:5353`, `::1`, `tls://0.0.0.0:853`, `https://[::]:443`. */
export interface ListenAddress {
  /** `dns` serves UDP and TCP; `tls` (DoT) and `https` (DoH) are reserved for later. */
  readonly scheme: 'dns' | 'tls' | 'https';
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** The entry as written, used as the listener's name in logs and `Request.listener`. */
  readonly text: string;
}

const DEFAULT_PORT = { dns: 53, tls: 853, https: 443 } as const;

/** Parses a listen entry; throws an Error whose message says what is wrong. Hosts are IP literals only. */
export function parseListenAddress(text: string): ListenAddress {
  let rest = text.trim();
  let scheme: ListenAddress['scheme'] = 'dns';
  const m = /^([a-z]+):\/\//i.exec(rest);
  if (m) {
    const s = m[1]!.toLowerCase();
    if (s !== 'dns' && s !== 'tls' && s !== 'https') throw new Error(`unknown scheme "${m[1]}" (use dns://, tls:// or https://)`);
    scheme = s;
    rest = rest.slice(m[0].length);
    // DoH may name a path; only /dns-query is served.
    if (scheme === 'https') {
      const slash = rest.indexOf('/');
      if (slash >= 0) {
        if (rest.slice(slash) !== '/dns-query') throw new Error(`DoH path must be /dns-query, not "${rest.slice(slash)}"`);
        rest = rest.slice(0, slash);
      }
    }
  }
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw new Error(`missing "]" in "${text}"`);
    host = rest.slice(1, end);
    const after = rest.slice(end + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new Error(`expected ":PORT" after "]" in "${text}"`);
      portText = after.slice(1);
    }
  } else if (isIP(rest) === 6) {
    host = rest; // a bare IPv6 address has no port
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0) {
      host = rest.slice(0, colon);
      portText = rest.slice(colon + 1);
    } else host = rest;
  }
  const family = isIP(host);
  if (family === 0) throw new Error(`"${host}" is not an IP address (listen takes addresses, not host names)`);
  let port: number = DEFAULT_PORT[scheme];
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) throw new Error(`bad port "${portText}" (0-65535)`);
    port = Number(portText);
  }
  return { scheme, host, port, family: family as 4 | 6, text };
}

/** `host:port` with IPv6 hosts bracketed. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
