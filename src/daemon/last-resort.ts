// The daemon's last resort: an exception nothing caught, or a rejected
// promise nothing handled, is a bug. Node's default would print a stack
// trace and exit 1 (or 7 or 13), leaving the pidfile behind and tcpdump to
// the reaper. Instead: one line on stderr and in the log, tcpdump killed,
// the pidfile removed, and exit 70 (EX_SOFTWARE), so that a supervisor
// (daemon(8) -R in the FreeBSD rc.d script, systemd's Restart=) starts a
// fresh daemon. Everything here is synchronous: nothing that was queued on
// the event loop is trusted any more.

import { escapeText } from '../format/escape.js';
import { EX_SOFTWARE } from '../util/sysexits.js';

export interface LastResortOptions {
  /** one line on stderr (the daemon's warn hook) */
  warn(message: string): void;
  /** the same line in the log, written at once */
  logNow(message: string): void;
  /** the running tcpdump's pid, if one runs */
  childPid(): number | undefined;
  /** tcpdump has been killed: tell the reaper, let it go */
  releaseChild(): void;
  /** remove the pidfile (only if it is still ours) */
  releasePidfile(): void;
}

/**
 * Set only by the test that checks this handler: makes the running daemon
 * throw from a timer once tcpdump has written its first output
 * ('exception'), or leave a rejected promise unhandled ('rejection').
 */
export const TEST_FAULT_ENV = 'PFASCIILOGD_TEST_FAULT';

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** Installs the handlers; returns the function that removes them. */
export function installLastResort(o: LastResortOptions): () => void {
  let fired = false;
  const onFatal = (err: unknown, origin: string) => {
    if (fired) return; // a second fault while handling the first: the first one exits
    fired = true;
    const message = `internal error (${origin}): ${escapeText(describe(err))}; exiting`;
    const attempt = (step: () => void) => {
      try {
        step();
      } catch {
        // each step is best effort: the others, and the exit, still happen
      }
    };
    // What must happen comes first: a write to the log could block (a
    // stalled FIFO output, a hung disk), and tcpdump and the pidfile must not
    // outlive us because of it.
    attempt(() => {
      const pid = o.childPid();
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    });
    attempt(() => o.releaseChild());
    attempt(() => o.releasePidfile());
    attempt(() => o.warn(message));
    attempt(() => o.logNow(message));
    process.exit(EX_SOFTWARE);
  };
  const onException = (err: unknown) => onFatal(err, 'uncaught exception');
  const onRejection = (reason: unknown) => onFatal(reason, 'unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}

let provoked = false;

/** The test hook (see TEST_FAULT_ENV): called when tcpdump has written something. */
export function provokeTestFault(): void {
  if (provoked) return;
  provoked = true;
  const fault = process.env[TEST_FAULT_ENV];
  if (fault === 'exception') {
    setTimeout(() => {
      throw new Error(`${TEST_FAULT_ENV}=exception`);
    }, 0);
  } else if (fault === 'rejection') {
    setTimeout(() => void Promise.reject(new Error(`${TEST_FAULT_ENV}=rejection`)), 0);
  }
}
