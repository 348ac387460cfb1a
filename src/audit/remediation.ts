import { isIPv4, isIPv6 } from 'node:net';
import type { FindingId, FirewallRules, Remediation } from './types.js';

/** Placeholder network when no `--allow` was given: documentation prefixes, clearly not real. */
export const PLACEHOLDER_NETWORKS = ['192.0.2.0/24', '2001:db8::/32'];

/** Checks `addr/len` (or a bare address) and returns it normalised; throws RangeError otherwise. */
export function parseCidr(text: string): { text: string; family: 4 | 6 } {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined || !addr) throw new RangeError(`bad network "${text}" (expected ADDRESS or ADDRESS/LENGTH)`);
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
  if (!family) throw new RangeError(`bad network "${text}": "${addr}" is not an IP address`);
  const max = family === 4 ? 32 : 128;
  if (len !== undefined && (!/^[0-9]{1,3}$/.test(len) || Number(len) > max)) throw new RangeError(`bad network "${text}": prefix length must be 0..${max}`);
  return { text: `${addr}/${len ?? max}`, family };
}

/**
 * Firewall rules that let only `allow` reach the DNS port (UDP and TCP) and drop the rest.
 * `onlyTcp` for findings that concern TCP alone (zone transfers).
 */
export function firewallRules(allow: readonly string[], port: number, onlyTcp = false): FirewallRules {
  const nets = (allow.length ? allow : PLACEHOLDER_NETWORKS).map(parseCidr);
  const protos = onlyTcp ? ['tcp'] : ['udp', 'tcp'];
  const ipt: string[] = [];
  const ufw: string[] = [];
  for (const n of nets) {
    const cmd = n.family === 4 ? 'iptables' : 'ip6tables';
    for (const p of protos) {
      ipt.push(`${cmd} -A INPUT -p ${p} --dport ${port} -s ${n.text} -j ACCEPT`);
      ufw.push(`ufw allow proto ${p} from ${n.text} to any port ${port}`);
    }
  }
  for (const cmd of ['iptables', 'ip6tables']) for (const p of protos) ipt.push(`${cmd} -A INPUT -p ${p} --dport ${port} -j DROP`);
  for (const p of protos) ufw.push(`ufw deny proto ${p} to any port ${port}`);
  const v4 = nets.filter((n) => n.family === 4).map((n) => n.text);
  const v6 = nets.filter((n) => n.family === 6).map((n) => n.text);
  const l4 = onlyTcp ? 'tcp dport' : 'meta l4proto { udp, tcp } th dport';
  const nft = [
    'table inet dns_guard {',
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    ...(v4.length ? [`    ip saddr { ${v4.join(', ')} } ${l4} ${port} accept`] : []),
    ...(v6.length ? [`    ip6 saddr { ${v6.join(', ')} } ${l4} ${port} accept`] : []),
    `    ${l4} ${port} drop`,
    '  }',
    '}',
  ];
  const note = allow.length ? '' : `# no --allow given: replace ${PLACEHOLDER_NETWORKS.join(' and ')} with the networks that need DNS\n`;
  return { iptables: note + ipt.join('\n'), nftables: note + nft.join('\n'), ufw: note + ufw.join('\n') };
}

type Advice = Omit<Remediation, 'firewall'>;

const SAME = 'nothing to change';

/** Per-finding advice. Config snippets are minimal: the lines that fix the finding. */
const ADVICE: Record<FindingId, Advice> = {
  unreachable: {
    summary: 'Nothing answered. Check the address and port, that the server runs, and that a firewall does not drop the audit (run it from a network that should have access).',
    portcullis: 'listen:\n  - 192.0.2.53:53   # the address the audit targets',
    bind: 'options { listen-on port 53 { 192.0.2.53; }; };',
    unbound: 'server:\n  interface: 192.0.2.53',
    nsd: 'server:\n  ip-address: 192.0.2.53',
    knot: 'server:\n  listen: 192.0.2.53@53',
    powerdns: 'local-address=192.0.2.53',
    dnsmasq: 'listen-address=192.0.2.53',
  },
  'udp-open': {
    summary: 'The service is reachable over UDP from where the audit ran. Expected for a public authoritative server; otherwise limit port 53 to the networks that need it.',
    portcullis: 'listen:\n  - 10.0.0.53:53      # bind only the interfaces that should serve DNS',
    bind: 'options { listen-on { 10.0.0.53; }; listen-on-v6 { none; }; };',
    unbound: 'server:\n  interface: 10.0.0.53\n  access-control: 10.0.0.0/8 allow',
    nsd: 'server:\n  ip-address: 10.0.0.53',
    knot: 'server:\n  listen: 10.0.0.53@53',
    powerdns: 'local-address=10.0.0.53',
    dnsmasq: 'listen-address=10.0.0.53\nbind-interfaces',
  },
  'tcp-open': {
    summary: 'The service is reachable over TCP. Required by RFC 7766; limit concurrent connections and idle time instead of closing it.',
    portcullis: SAME + ' (TCP is served on every listen address)',
    bind: 'options { tcp-clients 150; tcp-idle-timeout 300; };',
    unbound: 'server:\n  incoming-num-tcp: 100\n  tcp-idle-timeout: 30000',
    nsd: 'server:\n  tcp-count: 100\n  tcp-timeout: 30',
    knot: 'server:\n  tcp-max-clients: 100\n  tcp-idle-timeout: 10s',
    powerdns: 'max-tcp-connections=100',
    dnsmasq: SAME,
  },
  'tcp-missing': {
    summary: 'DNS over TCP is mandatory (RFC 7766): truncated answers, DNSSEC and large RRsets need it. Serve TCP and open TCP port 53 in the firewall for the same networks as UDP.',
    portcullis: 'listen:\n  - 192.0.2.53:53     # a plain address serves UDP and TCP',
    bind: '# BIND always serves TCP: check listen-on and the firewall',
    unbound: 'server:\n  do-tcp: yes',
    nsd: 'server:\n  tcp-count: 100       # and no firewall rule dropping TCP 53',
    knot: '# Knot always serves TCP: check the firewall',
    powerdns: '# PowerDNS always serves TCP: check the firewall',
    dnsmasq: '# dnsmasq serves TCP on the same addresses: check the firewall',
  },
  'version-disclosure': {
    summary: 'Hide the software version and host identity: they tell an attacker which exploits to try.',
    portcullis: '# Portcullis publishes no version.bind, hostname.bind, id.server or NSID unless configured to: remove any identity or NSID setting',
    bind: 'options {\n  version none;\n  hostname none;\n  server-id none;\n};',
    unbound: 'server:\n  hide-identity: yes\n  hide-version: yes',
    nsd: 'server:\n  hide-version: yes\n  hide-identity: yes\n  # and no "nsid:" line',
    knot: 'server:\n  version: ""\n  identity: ""\n  nsid: ""',
    powerdns: 'version-string=anonymous\nserver-id=disabled',
    dnsmasq: 'no-ident     # stop answering CHAOS TXT version.bind / hostname.bind',
  },
  'open-recursion': {
    summary: 'Recursion must be offered only to your own clients: an open resolver is used for reflection attacks and cache poisoning. Separate authoritative and recursive service.',
    portcullis: 'resolver:\n  allow: [internal]          # [] disables recursion\nacl:\n  internal: [10.0.0.0/8, "::1", 127.0.0.0/8]',
    bind: 'options {\n  recursion yes;\n  allow-recursion { localhost; 10.0.0.0/8; };\n  allow-query-cache { localhost; 10.0.0.0/8; };\n};\n# authoritative only: recursion no;',
    unbound: 'server:\n  access-control: 0.0.0.0/0 refuse\n  access-control: 10.0.0.0/8 allow',
    nsd: '# NSD never recurses: the recursion comes from another service on this address',
    knot: '# Knot DNS never recurses: check for a resolver (kresd) on this address',
    powerdns: '# pdns_recursor recursor.conf:\nallow-from=127.0.0.0/8, 10.0.0.0/8',
    dnsmasq: 'local-service   # answer only hosts on directly connected subnets\n# or: interface=lan0 and bind-interfaces',
  },
  'cache-snooping': {
    summary: 'Outsiders can read what is in the cache (which names your users visit). Refuse cache access to clients that may not recurse.',
    portcullis: 'resolver:\n  allow: [internal]     # clients outside it get REFUSED, cache included',
    bind: 'options { allow-query-cache { localhost; 10.0.0.0/8; }; };',
    unbound: 'server:\n  access-control: 0.0.0.0/0 refuse\n  access-control: 10.0.0.0/8 allow',
    nsd: '# NSD has no cache',
    knot: '# Knot DNS has no cache',
    powerdns: '# recursor.conf\nallow-from=10.0.0.0/8',
    dnsmasq: 'local-service',
  },
  'zone-transfer-open': {
    summary: 'Anyone can download the whole zone. Allow transfers only to secondaries, authenticated with TSIG.',
    portcullis: 'keys:\n  xfr-key: { algorithm: hmac-sha256, secret: "base64..." }\nzones:\n  - name: example.test\n    allow-transfer: [xfr-key]   # default: none',
    bind: 'key "xfr-key" { algorithm hmac-sha256; secret "base64..."; };\nzone "example.test" { allow-transfer { key "xfr-key"; }; };\n# or globally: options { allow-transfer { none; }; };',
    unbound: '# Unbound (auth-zone): do not list the zone under "allow-notify"/"provide-xfr"; Unbound serves no AXFR by default',
    nsd: 'zone:\n  name: example.test\n  provide-xfr: 192.0.2.2 xfr-key   # remove any "provide-xfr: 0.0.0.0/0 NOKEY"',
    knot: 'acl:\n  - id: xfr\n    key: xfr-key\n    action: transfer\nzone:\n  - domain: example.test\n    acl: xfr',
    powerdns: 'disable-axfr=yes\n# or allow-axfr-ips=192.0.2.2/32 with TSIG in domainmetadata (TSIG-ALLOW-AXFR)',
    dnsmasq: '# dnsmasq answers AXFR only for auth-zone with auth-sec-servers; remove the zone or list only secondaries:\nauth-sec-servers=ns2.example.test',
  },
  amplification: {
    summary: 'Large UDP answers to small queries let spoofed queries reflect traffic at a victim. Rate-limit responses, answer ANY minimally, keep the EDNS buffer at 1232 and support cookies.',
    portcullis: 'rate-limit: { responses-per-second: 20, slip: 2, window: 15 }',
    bind: 'options {\n  rate-limit { responses-per-second 10; slip 2; window 15; };\n  minimal-any yes;\n  max-udp-size 1232;\n};',
    unbound: 'server:\n  ip-ratelimit: 100\n  deny-any: yes\n  max-udp-size: 1232',
    nsd: 'server:\n  rrl-ratelimit: 200\n  rrl-slip: 2\n  refuse-any: yes',
    knot: 'mod-rrl:\n  - id: default\n    rate-limit: 200\n    slip: 2\ntemplate:\n  - id: default\n    global-module: mod-rrl/default',
    powerdns: '# use dnsdist in front: addAction(AllRule(), DelayAction(...)) / setRingBuffersSize; or\nmax-udp-queries-per-round=... and a firewall rate limit',
    dnsmasq: 'edns-packet-max=1232\n# dnsmasq has no RRL: rate-limit with the firewall (nft limit rate)',
  },
  'no-rate-limit': {
    summary: 'Every query of a burst was answered in full: enable response rate limiting (RRL) so floods of identical answers are dropped or slipped (TC).',
    portcullis: 'rate-limit: { responses-per-second: 20, slip: 2, window: 15 }',
    bind: 'options { rate-limit { responses-per-second 10; slip 2; window 15; }; };',
    unbound: 'server:\n  ip-ratelimit: 100\n  ratelimit: 1000',
    nsd: 'server:\n  rrl-ratelimit: 200\n  rrl-slip: 2',
    knot: 'mod-rrl:\n  - id: default\n    rate-limit: 200\n    slip: 2\ntemplate:\n  - id: default\n    global-module: mod-rrl/default',
    powerdns: '# put dnsdist in front:\naddAction(MaxQPSIPRule(50), DropAction())',
    dnsmasq: '# no RRL in dnsmasq: nft add rule inet filter input udp dport 53 meter dns { ip saddr limit rate 50/second } accept',
  },
  'tcp-fallback': {
    summary: 'Clients retry truncated answers over TCP (RFC 7766); when TCP fails or is still truncated, those names cannot be resolved.',
    portcullis: SAME + ': check no firewall drops TCP 53 or long TCP answers',
    bind: 'options { tcp-clients 150; };   # and allow TCP 53 in the firewall',
    unbound: 'server:\n  do-tcp: yes\n  incoming-num-tcp: 100',
    nsd: 'server:\n  tcp-count: 100',
    knot: 'server:\n  tcp-max-clients: 100',
    powerdns: 'max-tcp-connections=100',
    dnsmasq: '# allow TCP 53 in the firewall; dnsmasq forwards TCP queries itself',
  },
  'edns-compliance': {
    summary: 'Non-compliant EDNS handling makes resolvers fall back or fail (see https://ednscomp.isc.org/). Upgrade the server or fix the middlebox (firewall, load balancer) that alters EDNS.',
    portcullis: SAME + ' (Portcullis implements RFC 6891; a failure here points to a middlebox)',
    bind: '# upgrade to a supported BIND 9 release; check no firewall strips OPT records',
    unbound: '# upgrade Unbound; check no firewall strips OPT records',
    nsd: '# upgrade NSD; check no firewall strips OPT records',
    knot: '# upgrade Knot DNS; check no firewall strips OPT records',
    powerdns: '# upgrade PowerDNS; check no firewall strips OPT records',
    dnsmasq: 'edns-packet-max=1232   # and upgrade dnsmasq',
  },
  'no-cookies': {
    summary: 'DNS cookies (RFC 7873) let the server prove a client is not spoofed and allow larger answers safely.',
    portcullis: '# enable the "cookies" step of the accept phase (see src/policy/README.md)',
    bind: 'options { answer-cookie yes; };   # default since 9.11',
    unbound: 'server:\n  answer-cookie: yes     # Unbound 1.18+',
    nsd: 'server:\n  answer-cookie: yes     # NSD 4.8+',
    knot: 'mod-cookies:\n  - id: default\ntemplate:\n  - id: default\n    global-module: mod-cookies/default',
    powerdns: 'edns-cookie-secret=<128-bit hex>   # Authoritative 4.8+',
    dnsmasq: '# dnsmasq does not support cookies: put the service behind a resolver that does',
  },
  'dnssec-missing': {
    summary: 'The zone is not signed: answers can be forged. Sign it and publish the DS record at the parent.',
    portcullis: 'zones:\n  - name: example.test\n    file: zones/example.test.zone\n    dnssec: { sign: true }',
    bind: 'zone "example.test" { dnssec-policy default; inline-signing yes; };',
    unbound: '# Unbound only serves auth-zones as given: sign the zone with ldns-signzone/dnssec-signzone',
    nsd: '# NSD serves pre-signed zones: ldns-signzone or dnssec-signzone, then reload',
    knot: 'zone:\n  - domain: example.test\n    dnssec-signing: on',
    powerdns: 'pdnsutil secure-zone example.test && pdnsutil rectify-zone example.test',
    dnsmasq: '# dnsmasq cannot sign zones: serve signed zones from an authoritative server',
  },
  'dnssec-broken': {
    summary: 'Signatures are missing, expired or made with a key not in the DNSKEY set: validating resolvers will answer SERVFAIL for the whole zone. Re-sign now and automate re-signing.',
    portcullis: 'zones:\n  - name: example.test\n    dnssec: { sign: true }     # re-signs before expiry',
    bind: 'zone "example.test" { dnssec-policy default; inline-signing yes; };   # then rndc sign example.test',
    unbound: '# re-sign the zone file (ldns-signzone) and reload',
    nsd: '# re-sign the zone (ldns-signzone -e <later expiry>) and nsd-control reload',
    knot: 'zone:\n  - domain: example.test\n    dnssec-signing: on   # then knotc zone-sign example.test',
    powerdns: 'pdnsutil rectify-zone example.test && pdnsutil check-zone example.test',
    dnsmasq: '# serve signed zones from an authoritative server that re-signs automatically',
  },
  'any-not-minimal': {
    summary: 'Answer ANY with a minimal response (RFC 8482) or force it to TCP: full ANY answers over UDP are the favourite reflection query.',
    portcullis: '# answer ANY minimally (RFC 8482), the authoritative engine\'s default; remove any override',
    bind: 'options { minimal-any yes; };',
    unbound: 'server:\n  deny-any: yes',
    nsd: 'server:\n  refuse-any: yes',
    knot: '# Knot answers ANY minimally by default (since 2.x); for zones with mod-synthrecord check the template',
    powerdns: '# PowerDNS 4.x: put dnsdist in front:\naddAction(QTypeRule(DNSQType.ANY), TCAction())',
    dnsmasq: '# dnsmasq forwards ANY as is: make its upstream answer minimally, or drop UDP ANY in the firewall',
  },
};

/** Firewall rules help for exposure findings; not for DNSSEC or EDNS correctness. */
const NEEDS_FIREWALL: ReadonlySet<FindingId> = new Set([
  'udp-open', 'tcp-open', 'version-disclosure', 'open-recursion', 'cache-snooping', 'zone-transfer-open', 'amplification', 'no-rate-limit', 'any-not-minimal', 'no-cookies',
]);

export function remediationFor(id: FindingId, allow: readonly string[], port: number): Remediation {
  const advice = ADVICE[id];
  if (!NEEDS_FIREWALL.has(id)) return { ...advice };
  return { ...advice, firewall: firewallRules(allow, port, id === 'zone-transfer-open') };
}
