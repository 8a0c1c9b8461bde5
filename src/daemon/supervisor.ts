// Runs the capture process (tcpdump) and restarts it when it exits, with
// backoff so a tcpdump that fails at once (no pflog0, binary missing) does not
// spin. It knows processes, not packets: output goes to the callbacks as it
// arrives, and every start and exit is reported through `event`.

import { spawn, type ChildProcess } from 'node:child_process';
import { Backoff } from './backoff.js';
import { displayCommand } from '../capture/tcpdump-command.js';
import { describeErrno } from '../util/sysexits.js';

/** The signal tcpdump answers with its counters. */
const STATS_SIGNAL: NodeJS.Signals = ['freebsd', 'openbsd', 'netbsd', 'darwin'].includes(process.platform) ? 'SIGINFO' : 'SIGUSR1';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the process could not be started at all (e.g. ENOENT) */
  spawnError: string | null;
}

export interface SupervisorOptions {
  command: string;
  /** a function: asked again at each start (the daemon drops a flag tcpdump refused) */
  argv: string[] | (() => string[]);
  /** false: run once (reading a capture file) and report 'finished' */
  respawn: boolean;
  backoff?: Backoff;
  /** how long stop() waits after SIGTERM before SIGKILL */
  killAfterMs?: number;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  /** called after a run's pipes are closed, before any restart */
  onRunEnd(info: ExitInfo): void;
  /** called before each run starts */
  onRunStart?(): void;
  /** the child of this run has been spawned as `pid` */
  onSpawn?(pid: number): void;
  event(message: string): void;
}

export class Supervisor {
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private paused = false;
  private readonly backoff: Backoff;
  private finishedResolve: ((info: ExitInfo) => void) | null = null;
  /** Resolves when a non-respawning run ends, or when stop() completes. */
  readonly finished: Promise<ExitInfo>;

  constructor(private readonly o: SupervisorOptions) {
    this.backoff = o.backoff ?? new Backoff();
    this.finished = new Promise((resolve) => (this.finishedResolve = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const o = this.o;
    const argv = typeof o.argv === 'function' ? o.argv() : o.argv;
    o.event(`starting ${displayCommand(o.command, argv)}`);
    o.onRunStart?.();
    this.startedAt = Date.now();
    let spawnError: string | null = null;
    let child: ChildProcess;
    try {
      child = spawn(o.command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      // spawn() reports ENOENT and EACCES through 'error', but throws for
      // others (ENOTDIR for --tcpdump /file/x, ELOOP, ENAMETOOLONG): the same
      // "cannot run", logged and retried, not a crash that leaves the pidfile.
      this.child = null;
      process.nextTick(() => this.runEnded(null, null, describeErrno(err)));
      return;
    }
    this.child = child;
    if (child.pid !== undefined) o.onSpawn?.(child.pid);
    child.stdout!.on('data', (chunk: Buffer) => o.onStdout(chunk));
    child.stderr!.on('data', (chunk: Buffer) => o.onStderr(chunk));
    if (this.paused) child.stdout!.pause();
    child.on('error', (err) => {
      spawnError = describeErrno(err);
    });
    // 'close' comes after the exit and after both pipes are drained: every byte
    // tcpdump wrote has been handed on by then.
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      this.child = null;
      this.runEnded(code, signal, spawnError);
    });
  }

  private runEnded(code: number | null, signal: NodeJS.Signals | null, spawnError: string | null): void {
    const o = this.o;
    const name = displayCommand(o.command, []);
    if (spawnError !== null) o.event(`cannot run ${name}: ${spawnError}`);
    else if (signal !== null) o.event(`${name} killed by signal ${signal}`);
    else o.event(`${name} exited with status ${code}`);
    const info: ExitInfo = { code, signal, spawnError };
    o.onRunEnd(info);
    if (this.stopping || !o.respawn) {
      this.finishedResolve?.(info);
      return;
    }
    const delay = this.backoff.afterExit(Date.now() - this.startedAt);
    o.event(`restarting ${name} in ${delay / 1000} s`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) this.start();
    }, delay);
  }

  /**
   * Asks tcpdump to print its packet counters (received, dropped by the
   * kernel) on stderr, which is logged: SIGINFO on the BSDs, SIGUSR1 on Linux.
   */
  requestStats(): void {
    const child = this.child;
    if (child?.pid === undefined || this.stopping) return;
    this.signal(child, STATS_SIGNAL);
  }

  /** Backpressure from the sink: stop reading tcpdump's stdout (the kernel drops, and counts). */
  pause(): void {
    this.paused = true;
    this.child?.stdout?.pause();
  }

  resume(): void {
    this.paused = false;
    this.child?.stdout?.resume();
  }

  /** Sends a signal to the child; false (and an event saying why) if it could not be sent. */
  private signal(child: ChildProcess, sig: NodeJS.Signals): boolean {
    try {
      process.kill(child.pid!, sig);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') return true; // already gone: 'close' follows
      this.o.event(`cannot send ${sig} to ${displayCommand(this.o.command, [])} (pid ${child.pid}): ${describeErrno(err)}`);
      return false;
    }
  }

  /** TERM the child, KILL it if still there after killAfterMs; resolves once its output is drained. */
  async stop(): Promise<ExitInfo> {
    this.stopping = true;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.finishedResolve?.({ code: null, signal: null, spawnError: null });
    }
    const child = this.child;
    if (child) {
      this.resume(); // read whatever it still writes, so it can exit
      const killAfter = this.o.killAfterMs ?? 2000;
      this.signal(child, 'SIGTERM');
      const killer = setTimeout(() => {
        if (this.signal(child, 'SIGKILL')) return;
        // Not even KILL could be sent (EPERM: no CAP_KILL once tcpdump runs as
        // another user): say so and stop waiting; tcpdump dies on its next
        // write to the closed pipe. Let go of its pipes so the process can end.
        child.stdout?.destroy();
        child.stderr?.destroy();
        child.unref();
        this.finishedResolve?.({ code: null, signal: null, spawnError: null });
      }, killAfter);
      const info = await this.finished;
      clearTimeout(killer);
      return info;
    }
    this.finishedResolve?.({ code: null, signal: null, spawnError: null });
    return this.finished;
  }
}
