// The real fail2ban-server, private to one test run: a configuration directory
// of its own (the system's fail2ban.conf, jail.conf, paths-*.conf and
// action.d, the project's filter and jail verbatim, and a .local that points
// the jail at the test's log, ban action and timings), its own socket, pid
// file, log and database. The caller starts `serverArgv()` where it wants
// (inside a network namespace) and talks to it with `client`.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PROJECT_FILTER = join(ROOT, 'etc/fail2ban/filter.d/pfasciilogd.conf');
const PROJECT_JAIL = join(ROOT, 'etc/fail2ban/jail.d/pfasciilogd.conf');
/** Where the distribution keeps fail2ban's stock configuration (Debian: the fail2ban package). */
const SYSTEM_CONF = '/etc/fail2ban';
const SYSTEM_FILES = ['fail2ban.conf', 'jail.conf', 'action.d/nftables.conf'];

export type Backend = 'pyinotify' | 'polling';

export interface JailSettings {
  jail: string;
  logpath: string;
  backend: Backend;
  /** e.g. "pfasciilogd[mode=syn, prefix=pf-block]" */
  filter: string;
  /** e.g. "nftables[type=allports, name=pf]" */
  action: string;
  maxretry: number;
  /** seconds */
  findtime: number;
  /** seconds */
  bantime: number;
  ignoreip: string[];
}

export interface ClientResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The backend for the jail: pyinotify when the Python that runs
 * fail2ban-server can import it (Debian's fail2ban recommends
 * python3-pyinotify), else polling, which needs nothing but checks the file
 * only every 2 s. PFASCIILOGD_E2E_BACKEND=polling|pyinotify forces one.
 */
export function fail2banBackend(serverPath: string | undefined): Backend {
  const forced = process.env.PFASCIILOGD_E2E_BACKEND;
  if (forced === 'polling' || forced === 'pyinotify') return forced;
  if (!serverPath) return 'polling';
  let interpreter: string[];
  try {
    const first = readFileSync(serverPath, 'utf8').split('\n', 1)[0]!;
    if (!first.startsWith('#!')) return 'polling';
    interpreter = first.slice(2).trim().split(/\s+/);
  } catch {
    return 'polling';
  }
  const r = spawnSync(interpreter[0]!, [...interpreter.slice(1), '-c', 'import pyinotify'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0 ? 'pyinotify' : 'polling';
}

export class Fail2banServer {
  readonly confdir: string;
  readonly socket: string;
  readonly pidfile: string;
  readonly logfile: string;
  readonly dbfile: string;

  /** Writes the configuration directory under `dir`. */
  constructor(
    dir: string,
    readonly settings: JailSettings,
  ) {
    this.confdir = join(dir, 'conf');
    this.socket = join(dir, 'fail2ban.sock');
    this.pidfile = join(dir, 'fail2ban.pid');
    this.logfile = join(dir, 'fail2ban.log');
    this.dbfile = join(dir, 'fail2ban.sqlite3');
    this.writeConfig();
  }

  /** Why the system's stock configuration cannot be used, or undefined. */
  static missingSystemConfig(): string | undefined {
    for (const f of SYSTEM_FILES) if (!existsSync(join(SYSTEM_CONF, f))) return `${join(SYSTEM_CONF, f)} not found (Debian: apt-get install fail2ban)`;
    return undefined;
  }

  private writeConfig(): void {
    const c = this.confdir;
    for (const sub of ['action.d', 'filter.d', 'jail.d']) mkdirSync(join(c, sub), { recursive: true });
    // stock files only (*.conf): a host's own .local overrides must not leak in
    for (const f of readdirSync(SYSTEM_CONF)) {
      if (f === 'fail2ban.conf' || f === 'jail.conf' || /^paths-.*\.conf$/.test(f)) copyFileSync(join(SYSTEM_CONF, f), join(c, f));
    }
    for (const f of readdirSync(join(SYSTEM_CONF, 'action.d'))) {
      if (f.endsWith('.conf')) copyFileSync(join(SYSTEM_CONF, 'action.d', f), join(c, 'action.d', f));
    }
    // the project's filter alone in filter.d: it must stand on its own
    copyFileSync(PROJECT_FILTER, join(c, 'filter.d/pfasciilogd.conf'));
    copyFileSync(PROJECT_JAIL, join(c, 'jail.d/pfasciilogd.conf'));

    writeFileSync(
      join(c, 'fail2ban.local'),
      `[Definition]
loglevel = INFO
logtarget = ${this.logfile}
socket = ${this.socket}
pidfile = ${this.pidfile}
dbfile = ${this.dbfile}
allowipv6 = auto
`,
    );
    const s = this.settings;
    // what a Linux installation would put in its jail.local: the shipped jail
    // ([pf] in jail.d/pfasciilogd.conf) with the log, an nftables action and
    // this test's timings
    writeFileSync(
      join(c, 'jail.d/pfasciilogd.local'),
      `[${s.jail}]
enabled  = true
logpath  = ${s.logpath}
backend  = ${s.backend}
filter   = ${s.filter}
action   = ${s.action}
maxretry = ${s.maxretry}
findtime = ${s.findtime}
bantime  = ${s.bantime}
ignoreip = ${s.ignoreip.join(' ')}
`,
    );
  }

  /** fail2ban-server in the foreground with this configuration, socket, pid file and log. */
  serverArgv(): string[] {
    return ['fail2ban-server', '-f', '-x', '-c', this.confdir, '-s', this.socket, '-p', this.pidfile, '--logtarget', this.logfile, '--loglevel', 'INFO'];
  }

  /** fail2ban-client on this server's socket (a Unix socket: reachable from any network namespace). */
  client(args: readonly string[], timeoutMs = 15_000): Promise<ClientResult> {
    return new Promise((res) => {
      const child = spawn('fail2ban-client', ['-c', this.confdir, '-s', this.socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (err) => (stderr += String(err)));
      child.on('close', (status) => {
        clearTimeout(timer);
        res({ status, stdout, stderr });
      });
    });
  }

  /** The addresses the jail holds banned, sorted. */
  async banned(): Promise<string[]> {
    const r = await this.client(['get', this.settings.jail, 'banned']);
    if (r.status !== 0) throw new Error(`fail2ban-client get ${this.settings.jail} banned exited ${r.status}: ${r.stderr}`);
    // a Python list: ['10.77.1.2', ...] or []
    return [...r.stdout.matchAll(/'([^']*)'/g)].map((m) => m[1]!).sort();
  }

  async unban(addr: string): Promise<void> {
    const r = await this.client(['set', this.settings.jail, 'unbanip', addr]);
    if (r.status !== 0) throw new Error(`fail2ban-client set ${this.settings.jail} unbanip ${addr} exited ${r.status}: ${r.stderr}`);
  }

  logText(): string {
    try {
      return readFileSync(this.logfile, 'utf8');
    } catch {
      return '';
    }
  }
}
