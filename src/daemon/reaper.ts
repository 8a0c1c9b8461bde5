// The reaper: stops the daemon's tcpdump if the daemon dies without doing so
// itself (SIGKILL, the OOM killer, a crash). The kernel cannot do it for us:
// PR_SET_PDEATHSIG is cleared when tcpdump -Z changes its user, and the BSDs
// have nothing like it. A tcpdump left behind would go on capturing as root
// with nobody reading until its next write hits the closed pipe, which on a
// quiet interface may be never.
//
// It is a POSIX sh loop, not a second node: 1.7 MB RSS instead of 43. The
// daemon writes the pid of its running tcpdump ("1234\n") to the loop's stdin,
// and "0\n" once it has exited. When stdin ends the daemon is gone: if a pid is
// held, TERM it, and KILL it if it is still there 300 ms later. Signals sent to
// the whole process group (^C, a service manager's TERM) are the daemon's to
// act on, so the loop ignores them and waits for the end of stdin. Only
// builtins run in the loop (read, case, kill); sleep runs once, at the end.

import { spawn, type ChildProcess } from 'node:child_process';

/** The script; $0 is REAPER_NAME: ps shows "/bin/sh -c <script> pfasciilogd-reaper", so pgrep -f finds it. */
export const REAPER_SCRIPT = `trap '' HUP INT TERM USR1 ALRM
held=0
while read -r word; do
  case $word in
    ''|*[!0-9]*) ;;
    *) held=$word ;;
  esac
done
[ "$held" -gt 0 ] 2>/dev/null || exit 0
kill -TERM "$held" 2>/dev/null || exit 0
sleep 0.3
kill -0 "$held" 2>/dev/null && kill -KILL "$held" 2>/dev/null
exit 0
`;

export const REAPER_NAME = 'pfasciilogd-reaper';

export class Reaper {
  private readonly child: ChildProcess;
  private closed = false;

  constructor(event: (message: string) => void, shell = '/bin/sh') {
    this.child = spawn(shell, ['-c', REAPER_SCRIPT, REAPER_NAME], { stdio: ['pipe', 'ignore', 'inherit'] });
    this.child.on('error', (err) => event(`cannot start the reaper: ${err.message}; tcpdump outlives a killed daemon`));
    this.child.on('exit', (code, signal) => {
      if (!this.closed) event(`reaper exited (${signal ?? `status ${code}`}); tcpdump outlives a killed daemon`);
    });
    // an EPIPE after the reaper died is reported by 'exit' above
    this.child.stdin!.on('error', () => {});
  }

  /** tcpdump runs as `pid`; 0 when it has exited. */
  hold(pid: number): void {
    if (!this.closed) this.child.stdin!.write(`${pid}\n`);
  }

  /** The daemon is exiting and tcpdump has been stopped: let the reaper go. */
  close(): void {
    this.closed = true;
    this.child.stdin!.end();
  }
}
