// The daemon's side of the reaper (see reaper-main.ts): a small Node process
// started once, told the pid of each tcpdump run through a pipe that closes
// when the daemon dies, however it dies.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REAPER_MAIN = fileURLToPath(new URL('./reaper-main.js', import.meta.url));

export class Reaper {
  private readonly child: ChildProcess;
  private closed = false;

  constructor(event: (message: string) => void) {
    // No inherited execArgv (--inspect and the like) and a small heap: it only waits.
    this.child = spawn(process.execPath, ['--max-old-space-size=16', REAPER_MAIN], { stdio: ['pipe', 'ignore', 'inherit'] });
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
