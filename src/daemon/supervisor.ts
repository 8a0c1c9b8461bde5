// Runs the capture process (tcpdump) and restarts it when it exits, with
// backoff so a tcpdump that fails after a good start (an interface that goes
// away) does not spin. A FIRST run that ends before any sign of a good start
// (output on stdout, its "listening on" line, or startupGraceMs of running) is
// a start-up failure: no restart, and `finished` says why (its last error
// line), so the daemon can fail loudly instead of retrying a typo forever.
// It knows processes, not packets: output goes to the callbacks as it
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
  /** the first run ended before a good start; it was not restarted */
  failedAtStart: boolean;
  /** the run's last error line on stderr ("tcpdump: ...: No such device exists"), or null */
  lastError: string | null;
}

/** Lines like "tcpdump: listening on pflog0, link-type PFLOG ..." (Debian, the BSDs). */
const DEFAULT_STARTED_LINE = /(^|: )listening on /;

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
  /** called after a run's pipes are closed, before any restart; 'retry': the cause is fixed, start again at once */
  onRunEnd(info: ExitInfo): void | 'retry';
  /** called before each run starts */
  onRunStart?(): void;
  /** the child of this run has been spawned as `pid` */
  onSpawn?(pid: number): void;
  /** a stderr line that says the capture has started (default: tcpdump's "listening on") */
  startedLine?: RegExp;
  /** a first run that lasts this long counts as started even without a sign (default 10 s) */
  startupGraceMs?: number;
  event(message: string): void;
}

const NO_RUN: ExitInfo = { code: null, signal: null, spawnError: null, failedAtStart: false, lastError: null };

export class Supervisor {
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private paused = false;
  private readonly backoff: Backoff;
  private finishedResolve: ((info: ExitInfo) => void) | null = null;
  private runs = 0;
  /** this run has shown it started: stdout data, its "listening on" line, or the grace time passed */
  private started = false;
  private startupTimer: NodeJS.Timeout | null = null;
  /** this run's stderr since its last complete line, and its last error line */
  private stderrPartial = '';
  private lastError: string | null = null;
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
    this.runs++;
    this.started = this.runs > 1; // only the first run can fail "at start"
    this.stderrPartial = '';
    this.lastError = null;
    if (this.startupTimer) clearTimeout(this.startupTimer); // a retry at start gets its own grace
    this.startupTimer = null;
    if (!this.started) {
      this.startupTimer = setTimeout(() => this.markStarted(), o.startupGraceMs ?? 10_000);
      this.startupTimer.unref();
    }
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
    child.stdout!.on('data', (chunk: Buffer) => {
      this.markStarted();
      o.onStdout(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.noteStderr(chunk);
      o.onStderr(chunk);
    });
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

  private markStarted(): void {
    this.started = true;
    if (this.startupTimer) clearTimeout(this.startupTimer);
    this.startupTimer = null;
  }

  /** Watches stderr for the started line and keeps the last error line ("prog: message"). */
  private noteStderr(chunk: Buffer): void {
    const lines = (this.stderrPartial + chunk.toString('latin1')).split('\n');
    this.stderrPartial = lines.pop()!.slice(-4096);
    for (const line of lines) this.noteStderrLine(line);
  }

  private noteStderrLine(line: string): void {
    const text = line.replace(/\r$/, '').slice(0, 4096);
    if ((this.o.startedLine ?? DEFAULT_STARTED_LINE).test(text)) this.markStarted();
    // "tcpdump: nosuchif: No such device exists", not the "(No such device exists)" after it
    else if (/^[^\s:]+: \S/.test(text)) this.lastError = text;
  }

  private runEnded(code: number | null, signal: NodeJS.Signals | null, spawnError: string | null): void {
    const o = this.o;
    const name = displayCommand(o.command, []);
    if (this.stderrPartial !== '') this.noteStderrLine(this.stderrPartial);
    if (spawnError !== null) o.event(`cannot run ${name}: ${spawnError}`);
    else if (signal !== null) o.event(`${name} killed by signal ${signal}`);
    else o.event(`${name} exited with status ${code}`);
    const info: ExitInfo = { code, signal, spawnError, failedAtStart: false, lastError: this.lastError };
    // The caller may have fixed what made this run fail (a flag tcpdump
    // refused): start again at once, still within the start-up, as if this
    // run had not been.
    if (o.onRunEnd(info) === 'retry' && !this.stopping && !this.started) {
      this.runs--;
      o.event(`restarting ${name}`);
      this.start();
      return;
    }
    info.failedAtStart = !this.started && !this.stopping && o.respawn;
    this.markStarted();
    if (this.stopping || !o.respawn || info.failedAtStart) {
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
      this.finishedResolve?.(NO_RUN);
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
        this.finishedResolve?.(NO_RUN);
      }, killAfter);
      const info = await this.finished;
      clearTimeout(killer);
      return info;
    }
    this.finishedResolve?.(NO_RUN);
    return this.finished;
  }
}
