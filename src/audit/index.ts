// The port-53 exposure audit: checks any DNS server and says how to fix what it finds.
export * from './types.js';
export { runAudit, exitCodeFor } from './run.js';
export { networkClient } from './client.js';
export { formatText, formatMarkdown, formatJson } from './format.js';
export { remediationFor, firewallRules, parseCidr } from './remediation.js';
export { amplificationSeverity } from './checks/amplification.js';
