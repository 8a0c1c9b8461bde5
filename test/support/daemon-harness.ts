// Helpers for running the real daemon (dist/bin/pfasciilogd.js) in tests: a temp
// directory per test, fake tcpdumps, argv-array spawning, bounded waits, and
// log parsing. Everything a test starts is tracked so it can be killed in an
// `after` hook even when an assertion failed half way.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../../src/daemon/pidfile.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/test/support
export const MAIN_JS = path.resolve(here, '../../bin/pfasciilogd.js');
export const FAKE_JS = path.join(here, 'fake-tcpdump.js');

/** The daemon's text relay (tcpdump prints, the daemon stamps): what the fakes speak. */
export const TEXT_RELAY = ['--decoder', 'tcpdump'];

export const STAMP = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d`;
export const LINE_RE = new RegExp(`^(${STAMP}) (.*)$`);

export interface LogLine {
  stamp: string;
  payload: string;
}

/** Parses a log; throws on any line that is not `<stamp> <printable payload>`, or a missing final newline. */
export function parseLog(text: string, what = 'log'): LogLine[] {
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`${what} does not end with a newline: ...${JSON.stringify(text.slice(-80))}`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      const m = LINE_RE.exec(line);
      if (!m) throw new Error(`${what} line ${i + 1} is not "<stamp> <payload>": ${JSON.stringify(line.slice(0, 200))}`);
      if (!/^[\x20-\x7e]*$/.test(m[2]!)) throw new Error(`${what} line ${i + 1} has a byte outside printable ASCII: ${JSON.stringify(line.slice(0, 200))}`);
      return { stamp: m[1]!, payload: m[2]! };
    });
}

/** The stamp as milliseconds since the epoch (microseconds kept as a fraction). */
export function stampMs(stamp: string): number {
  const us = Number(stamp.slice(20, 26));
  return Date.parse(stamp.slice(0, 19) + stamp.slice(26)) + us / 1000;
}

export function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** The daemon's own event messages ("starting ...", "exiting"), in order. */
export function events(lines: LogLine[]): string[] {
  return lines.filter((l) => l.payload.startsWith('pfasciilogd: ')).map((l) => l.payload.slice('pfasciilogd: '.length));
}

export { isAlive };

const HAVE_PROC = fs.existsSync('/proc/self/cmdline');

/**
 * True while `pid` is a running fake tcpdump (checked by its command line, so a
 * recycled pid is never mistaken for one, and a zombie does not count).
 */
export function isFakeRunning(pid: number): boolean {
  if (!HAVE_PROC) return isAlive(pid);
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('fake-tcpdump.js');
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something other than undefined/false; throws after timeoutMs. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000, intervalMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** True when something accepts TCP connections on host:port. */
export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Daemon {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  status: ExitStatus | null = null;
  readonly exited: Promise<ExitStatus>;

  /** `nodeFlags`: for node itself, before the program (HEAP_FLAGS, as the rc.d scripts and the unit run it) */
  constructor(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; nodeFlags?: readonly string[] } = {}) {
    this.proc = spawn(process.execPath, [...(opts.nodeFlags ?? []), MAIN_JS, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.setEncoding('latin1').on('data', (s: string) => (this.stdout += s));
    this.proc.stderr!.setEncoding('latin1').on('data', (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.status === null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.proc.kill(sig);
  }

  /** The exit status, or an error after timeoutMs (the process is then killed). */
  async waitExit(timeoutMs = 5000): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.signal('SIGKILL');
        reject(new Error(`daemon did not exit within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A temp directory with the daemon's files, fakes, and everything started from it. */
export class Sandbox {
  /** A sandbox removed after the test `t`, whatever its outcome. */
  static for(t: TestContext, name: string): Sandbox {
    const s = new Sandbox(name);
    t.after(() => s.cleanup());
    return s;
  }

  readonly dir: string;
  readonly log: string;
  readonly pidfile: string;
  readonly fakePidsFile: string;
  private readonly daemons: Daemon[] = [];

  constructor(name = 'daemon') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `pfasciilogd-${name}-`));
    this.log = this.path('pf.log');
    this.pidfile = this.path('pfasciilogd.pid');
    this.fakePidsFile = this.path('fake-pids');
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** Writes an executable fake tcpdump in the given mode; returns its path. */
  fake(mode: string, env: Record<string, string | number> = {}, name = `tcpdump-${mode}`): string {
    const file = this.path(name);
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const exports = Object.entries({ FAKE_TCPDUMP_MODE: mode, FAKE_TCPDUMP_PIDS: this.fakePidsFile, ...env })
      .map(([k, v]) => `${k}=${q(String(v))}; export ${k}\n`)
      .join('');
    fs.writeFileSync(file, `#!/bin/sh\n${exports}exec ${q(process.execPath)} ${q(FAKE_JS)} "$@"\n`, { mode: 0o755 });
    return file;
  }

  /** Writes an executable shell script (for fakes that need no Node start-up, like one that just fails). */
  script(name: string, body: string): string {
    const file = this.path(name);
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  }

  /** Pids of every fake started from this sandbox so far. */
  fakePids(): number[] {
    return readText(this.fakePidsFile)
      .split('\n')
      .filter(Boolean)
      .map(Number);
  }

  /** Starts the daemon with -f/-p in this sandbox ahead of `args`. */
  start(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; files?: boolean; nodeFlags?: readonly string[] } = {}): Daemon {
    const files = opts.files === false ? [] : ['-f', this.log, '-p', this.pidfile];
    const d = new Daemon([...files, ...args], { env: opts.env, cwd: this.dir, nodeFlags: opts.nodeFlags });
    this.daemons.push(d);
    return d;
  }

  /** Runs the daemon to its end. */
  async run(args: readonly string[], opts: { timeoutMs?: number; files?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<ExitStatus & { stdout: string; stderr: string }> {
    const d = this.start(args, opts);
    const st = await d.waitExit(opts.timeoutMs ?? 10_000);
    return { ...st, stdout: d.stdout, stderr: d.stderr };
  }

  lines(file = this.log): LogLine[] {
    return parseLog(readText(file), file);
  }

  /** Waits until the log has a line whose payload matches; returns all lines at that point. */
  async waitForLine(pattern: RegExp, timeoutMs = 5000, file = this.log): Promise<LogLine[]> {
    return waitFor(`a line matching ${pattern} in ${file}`, () => {
      const text = readText(file);
      if (!text.endsWith('\n')) return undefined; // a write in progress: look again
      const lines = parseLog(text, file);
      return lines.some((l) => pattern.test(l.payload)) ? lines : undefined;
    }, timeoutMs);
  }

  readPidfile(): number | null {
    const text = readText(this.pidfile);
    return /^\d+\n$/.test(text) ? Number(text) : null;
  }

  /** Kills whatever is still running and removes the directory. */
  async cleanup(): Promise<void> {
    for (const d of this.daemons) {
      if (d.running) {
        d.signal('SIGKILL');
        await d.waitExit(2000).catch(() => undefined);
      }
    }
    for (const pid of this.fakePids()) {
      if (!isFakeRunning(pid)) continue; // gone already, as it should be
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
