// The reaper process: stops the daemon's tcpdump if the daemon dies without
// doing so itself (SIGKILL, the OOM killer, a crash). The daemon cannot rely
// on the kernel for this: PR_SET_PDEATHSIG is cleared when tcpdump -Z changes
// its user, and on the BSDs there is nothing like it. A tcpdump left behind
// would run as a capture with nobody reading it until its next write hits
// the closed pipe, which on a quiet interface may be never.
//
// The daemon writes the pid of its running tcpdump ("1234\n") to our stdin,
// and "0\n" when it has exited. When stdin ends, the daemon is gone: if a pid
// is held, TERM it, and KILL it if it is still there 300 ms later. Signals
// sent to the whole process group (^C, a service manager's TERM) are the
// daemon's to act on; we wait for the end of stdin.

import { EX_OK } from '../util/sysexits.js';
import { isAlive } from './pidfile.js';

// SIGUSR1 would start Node's inspector, in a root process.
for (const sig of ['SIGUSR1', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGALRM'] as const) process.on(sig, () => {});

const KILL_AFTER_MS = 300;
let held = 0;
let pending = '';

function send(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') process.stderr.write(`pfasciilogd reaper: cannot send ${sig} to ${pid}: ${(err as Error).message}\n`);
  }
}

process.stdin.setEncoding('latin1');
process.stdin.on('data', (s: string) => {
  pending += s;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const word = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (/^\d{1,10}$/.test(word)) held = Number(word);
  }
});
process.stdin.on('end', () => {
  if (held <= 0) process.exit(EX_OK);
  const pid = held;
  send(pid, 'SIGTERM');
  setTimeout(() => {
    if (isAlive(pid)) send(pid, 'SIGKILL');
    process.exit(EX_OK);
  }, KILL_AFTER_MS);
});
