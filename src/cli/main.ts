#!/usr/bin/env node
// The pfasciilogd command: parse flags, dispatch, map errors to one line on
// stderr and a sysexits code.
import './early-signals.js';
import { parseDaemonArgs, UsageError } from './options.js';
import { DAEMON_USAGE } from './usage.js';
import { parseReadArgs, READ_USAGE, runRead } from './read-command.js';
import { version } from '../version.js';
import { EX_SOFTWARE, EX_USAGE, ExitError } from '../util/sysexits.js';

function fail(message: string, code: number): never {
  process.stderr.write(`pfasciilogd: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'read') {
    const o = parseReadArgs(argv.slice(1));
    if (o === 'help') {
      process.stdout.write(READ_USAGE);
      return 0;
    }
    return runRead(o);
  }
  if (argv[0] === 'stats') {
    // Loaded on demand: only `stats` needs src/stats/.
    const { STATS_USAGE, parseStatsArgs, runStats } = await import('./stats-command.js');
    const o = parseStatsArgs(argv.slice(1));
    if (o === 'help') {
      process.stdout.write(STATS_USAGE);
      return 0;
    }
    return runStats(o);
  }
  if (argv[0] === 'check') {
    // Loaded on demand, like the daemon's modules.
    const { CHECK_USAGE, parseCheckArgs, runCheck } = await import('./check-command.js');
    const o = parseCheckArgs(argv.slice(1));
    if (o === 'help') {
      process.stdout.write(CHECK_USAGE);
      return 0;
    }
    return runCheck(o);
  }
  const cmd = parseDaemonArgs(argv);
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(DAEMON_USAGE);
      return 0;
    case 'version':
      process.stdout.write(`pfasciilogd ${version()}\n`);
      return 0;
    case 'daemon': {
      // Loaded on demand: `read` has no use for the daemon's modules.
      const { runDaemon } = await import('../daemon/run.js');
      return runDaemon(cmd.options, { warn: (m) => process.stderr.write(`pfasciilogd: ${m}\n`) });
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) fail(`${err.message} (see pfasciilogd -h)`, EX_USAGE);
    if (err instanceof ExitError) fail(err.message, err.exitCode);
    fail(`internal error: ${err instanceof Error ? err.message : String(err)}`, EX_SOFTWARE);
  },
);
