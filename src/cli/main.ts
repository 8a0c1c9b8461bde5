// The pfasciilogd command: parse flags, dispatch, map errors to one line on
// stderr and a sysexits code.
import './early-signals.js';
import { parseDaemonArgs, SUBCOMMANDS, UsageError } from './options.js';
import { DAEMON_USAGE } from './usage.js';
import { parseReadArgs, READ_USAGE, runRead } from './read-command.js';
import { version } from '../version.js';
import { EX_SOFTWARE, EX_USAGE, ExitError } from '../util/sysexits.js';

function fail(message: string, code: number): never {
  process.stderr.write(`pfasciilogd: ${message}\n`);
  process.exit(code);
}

/** A subcommand's parsed options run, or its help printed. */
function subcommand<T>(o: T | 'help', usage: string, run: (o: T) => Promise<number>): Promise<number> {
  if (o !== 'help') return run(o);
  process.stdout.write(usage);
  return Promise.resolve(0);
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'read') return subcommand(parseReadArgs(argv.slice(1)), READ_USAGE, runRead);
  // Loaded on demand: only these subcommands need src/stats/ and src/check/.
  if (argv[0] === 'stats') {
    const { STATS_USAGE, parseStatsArgs, runStats } = await import('./stats-command.js');
    return subcommand(parseStatsArgs(argv.slice(1)), STATS_USAGE, runStats);
  }
  if (argv[0] === 'check') {
    const { CHECK_USAGE, parseCheckArgs, runCheck } = await import('./check-command.js');
    return subcommand(parseCheckArgs(argv.slice(1)), CHECK_USAGE, runCheck);
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
      const code = await runDaemon(cmd.options, { warn: (m) => process.stderr.write(`pfasciilogd: ${m}\n`) });
      // Everything is done (outputs closed or given up on, pidfile removed);
      // what may still be pending cannot be cancelled and must not hold the
      // process: the open or read of a -r FIFO nobody writes to, a write to an
      // -o FIFO nobody reads. Exit once stderr has taken its last line.
      process.stderr.write('', () => process.exit(code));
      return code;
    }
  }
}

const argv = process.argv.slice(2);
// a subcommand's usage error points to its own help, not the daemon's
const helpFor = (SUBCOMMANDS as readonly string[]).includes(argv[0] ?? '') ? `pfasciilogd ${argv[0]} -h` : 'pfasciilogd -h';

main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) fail(`${err.message} (see ${helpFor})`, EX_USAGE);
    if (err instanceof ExitError) fail(err.message, err.exitCode);
    fail(`internal error: ${err instanceof Error ? err.message : String(err)}`, EX_SOFTWARE);
  },
);
