import type { AuditReport, Finding, Remediation, Severity } from './types.js';

const ORDER: Severity[] = ['high', 'warning', 'info'];
const SERVERS: [keyof Remediation, string][] = [
  ['portcullis', 'Portcullis (portcullis.yaml)'],
  ['bind', 'BIND (named.conf)'],
  ['unbound', 'Unbound (unbound.conf)'],
  ['nsd', 'NSD (nsd.conf)'],
  ['knot', 'Knot DNS (knot.conf)'],
  ['powerdns', 'PowerDNS'],
  ['dnsmasq', 'dnsmasq (dnsmasq.conf)'],
];

function counts(r: AuditReport): string {
  return ORDER.map((s) => `${r.findings.filter((f) => f.severity === s).length} ${s}`).join(', ');
}

function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join(`\n${indent}`);
}

/** The terminal report: findings grouped by severity, then what was checked without findings. */
export function formatText(r: AuditReport): string {
  const lines: string[] = [`Portcullis audit of ${r.target} port ${r.port}: ${counts(r)} (${r.probes} probes)`];
  if (!r.reachable) lines.push('TARGET UNREACHABLE: no answer over UDP or TCP');
  const pad = 22;
  const indent = ' '.repeat(pad + 2);
  for (const sev of ORDER) {
    const group = r.findings.filter((f) => f.severity === sev);
    if (!group.length) continue;
    lines.push('', sev.toUpperCase());
    for (const f of group) {
      lines.push(`  ${f.id.padEnd(pad)}${f.title}`);
      lines.push(`${indent}${wrap(`evidence: ${f.evidence}`, 100, indent)}`);
      lines.push(`${indent}${wrap(`fix: ${f.remediation.summary}`, 100, indent)}`);
    }
  }
  const quiet = r.checks.filter((c) => c.status !== 'finding');
  if (quiet.length) {
    lines.push('', 'CHECKED WITHOUT FINDING');
    for (const c of quiet) lines.push(`  ${c.check.padEnd(pad)}${c.status.padEnd(9)}${wrap(c.detail, 90, indent + ' '.repeat(9))}`);
  }
  lines.push('', `exit code ${r.exitCode}; --markdown or --json give each server's configuration fix and firewall rules`);
  return lines.join('\n') + '\n';
}

function fence(text: string, lang = ''): string {
  return '```' + lang + '\n' + text + '\n```';
}

function findingMarkdown(f: Finding): string {
  const parts = [`### ${f.severity.toUpperCase()} \`${f.id}\`: ${f.title}`, '', `**Evidence:** ${f.evidence}`, '', `**Fix:** ${f.remediation.summary}`, ''];
  for (const [key, label] of SERVERS) {
    parts.push(`<details><summary>${label}</summary>`, '', fence(String(f.remediation[key])), '', '</details>');
  }
  const fw = f.remediation.firewall;
  if (fw) {
    parts.push('', '**Firewall** (allow only the networks that need DNS):', '', '<details><summary>iptables</summary>', '', fence(fw.iptables, 'sh'), '', '</details>');
    parts.push('<details><summary>nftables</summary>', '', fence(fw.nftables), '', '</details>');
    parts.push('<details><summary>ufw</summary>', '', fence(fw.ufw, 'sh'), '', '</details>');
  }
  return parts.join('\n');
}

const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function formatMarkdown(r: AuditReport): string {
  const out = [`# DNS exposure audit: ${r.target} port ${r.port}`, '', `${counts(r)}; ${r.probes} probes; exit code ${r.exitCode}.`, ''];
  if (!r.reachable) out.push('**The target did not answer over UDP or TCP.**', '');
  if (r.findings.length) {
    out.push('| severity | finding | title |', '|---|---|---|');
    for (const f of r.findings) out.push(`| ${f.severity} | \`${f.id}\` | ${esc(f.title)} |`);
    out.push('', '## Findings', '');
    for (const f of r.findings) out.push(findingMarkdown(f), '');
  }
  const quiet = r.checks.filter((c) => c.status !== 'finding');
  if (quiet.length) {
    out.push('## Checked without finding', '', '| check | status | detail |', '|---|---|---|');
    for (const c of quiet) out.push(`| \`${c.check}\` | ${c.status} | ${esc(c.detail)} |`);
  }
  return out.join('\n') + '\n';
}

/** `{"target", "port", "reachable", "exitCode", "probes", "findings": [...], "checks": [...]}` */
export function formatJson(r: AuditReport): string {
  return JSON.stringify(r, null, 2) + '\n';
}
