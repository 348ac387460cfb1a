#!/usr/bin/env node
// The `portcullis` command line. Exit codes: 0 success, 1 invalid input, 2 runtime failure.
import { readFileSync } from 'node:fs';
import cluster from 'node:cluster';
import { Command, CommanderError } from 'commander';
import { serveCommand, EXIT_RUNTIME } from './serve.js';
import { checkConfigCommand } from './check-config.js';
import { checkZoneCommand } from './check-zone.js';
import { registerAuditCommand } from './audit.js';
import { registerDnssecCommand } from './dnssec.js';
import { registerCtlCommand } from '../control/ctl.js';

function packageVersion(): string {
  // dist/src/cli/main.js sits a few folders below package.json; walk up to it.
  for (let up = '../'; up.length < 30; up += '../') {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up + 'package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'portcullis') return pkg.version ?? '0.0.0';
    } catch {
      /* not here; go up */
    }
  }
  return '0.0.0';
}


export async function buildProgram(): Promise<Command> {
  const program = new Command('portcullis')
    .description('A hardened DNS server: authoritative, recursive, monitored, audited.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError();

  program
    .command('serve')
    .description('run the server in the foreground (JSON log on stderr; SIGHUP reloads; SIGTERM/SIGINT drain and exit)')
    .option('-c, --config <file>', 'config file (default: the embedded loopback-only config on 127.0.0.1:5353)')
    .action(async (o: { config?: string }) => {
      const code = await serveCommand({ config: o.config, version: packageVersion() });
      // A cluster worker stays alive while its IPC channel is open: leave explicitly.
      if (cluster.isWorker) process.exit(code);
      process.exitCode = code;
    });

  program
    .command('check-config')
    .description('validate a config file; errors as FILE:LINE:COL: message')
    .argument('<file>', 'config file')
    .option('--explain', 'also print the query pipeline')
    .action(async (file: string, o: { explain?: boolean }) => {
      process.exitCode = await checkConfigCommand(file, o, { stdout: process.stdout, stderr: process.stderr });
    });

  program
    .command('check-zone')
    .description('parse and check a zone file like named-checkzone; errors as FILE:LINE:COL: message')
    .argument('<origin>', 'zone name')
    .argument('<file>', 'zone file')
    .action(async (origin: string, file: string) => {
      process.exitCode = await checkZoneCommand(origin, file, { stdout: process.stdout, stderr: process.stderr });
    });

  // Commands registered by their own modules: audit, ctl (control API client), dnssec (keys, signing).
  registerAuditCommand(program);
  registerCtlCommand(program);
  registerDnssecCommand(program);
  return program;

}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = await buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are successes; bad arguments are invalid input (1).
      process.exitCode = e.exitCode === 0 ? 0 : 1;
      return;
    }
    process.stderr.write(`portcullis: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = EXIT_RUNTIME;
  }
}

await main();
