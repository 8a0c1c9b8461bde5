// Network namespaces for the end-to-end ban test and bench: a `Lab` owns a
// set of namespaces, a temp directory and every process started in them, and
// tears all of it down (processes, namespaces, files) even half way through a
// failed setup. `startScene` builds the scene of the issue in a Lab:
//
//   scanner 10.77.1.2 ── veth ── s-scan   10.77.1.1 ─┐ server: nftables (tcp 2222 open,
//                                                    │ everything else logged to NFLOG
//   friend  10.77.2.2 ── veth ── s-friend 10.77.2.1 ─┘ and dropped), pfasciilogd -i nflog:N,
//   (+ 10.77.2.3, the jail's ignoreip)                  fail2ban-server with an nftables ban
//
// Nothing is configured on the host's interfaces: each veth pair is created
// directly inside its two namespaces. Namespace names carry the pid of the
// process that made them (`pfe2e<pid>-server`), so a leftover of a killed run
// is recognised and removed by the next one (`removeStale`).
//
// Run as a script (`node netns.js <command> <json>`, always through
// `ip netns exec NS`), this file is the agent that does TCP/UDP from inside a
// namespace and prints one JSON line: see `agentMain` at the end.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Fail2banServer, fail2banBackend, type Backend } from './fail2ban-server.js';
import { isAlive } from '../../src/daemon/pidfile.js';
import { findTool } from './unavailable.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/test/support
const AGENT_JS = join(here, 'netns.js');
const ROOT = resolve(here, '../../..');
export const MAIN_JS = join(ROOT, 'dist/bin/pfasciilogd.js');

/** Every namespace this file makes is named `pfe2e<pid>-<role>`. */
const NS_PREFIX = 'pfe2e';
const NS_RE = new RegExp(`^${NS_PREFIX}(\\d+)-[a-z]+$`);
/** ... and every temp directory `pfe2e-<pid>-XXXXXX`. */
const DIR_RE = new RegExp(`^${NS_PREFIX}-(\\d+)-[A-Za-z0-9]{6}$`);

export const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

/** Waits for `p`, or at most `ms` (without a timer left to hold the process open). */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((res) => (timer = setTimeout(res, ms)))]);
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------
// commands

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv (never through a shell), bounded in time. */
export function run(argv: readonly string[], input?: string, timeoutMs = 20_000): RunResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** `run`, throwing with the command and its stderr unless it exits 0. */
export function must(argv: readonly string[], input?: string): string {
  const r = run(argv, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The same, asynchronously (for agents running side by side). */
function runAsync(argv: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((res) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => (stderr += String(err)));
    child.on('close', (status) => {
      clearTimeout(timer);
      res({ status, stdout, stderr });
    });
  });
}


// ---------------------------------------------------------------------------
// namespaces

function listNamespaces(): string[] {
  const r = run(['ip', 'netns', 'list']);
  // "name" or "name (id: 3)"
  return r.status === 0 ? r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean) : [];
}

/** Kills whatever still runs in the namespace (by pid), then deletes it. */
function deleteNamespace(ns: string): void {
  for (let i = 0; i < 3; i++) {
    const pids = run(['ip', 'netns', 'pids', ns]).stdout.split('\n').filter(Boolean).map(Number);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // let them die
  }
  run(['ip', 'netns', 'del', ns]);
}

/**
 * Removes what earlier runs left when they were killed: their namespaces (and
 * the processes in them) and temp directories, recognised by the pid in the
 * name being gone.
 */
export function removeStale(): string[] {
  const stale = (pid: string) => Number(pid) !== process.pid && !isAlive(Number(pid));
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = NS_RE.exec(ns);
    if (!m || !stale(m[1]!)) continue;
    deleteNamespace(ns);
    removed.push(ns);
  }
  for (const d of readdirSync(tmpdir())) {
    const m = DIR_RE.exec(d);
    if (!m || !stale(m[1]!)) continue;
    rmSync(join(tmpdir(), d), { recursive: true, force: true });
    removed.push(join(tmpdir(), d));
  }
  return removed;
}

/** Why the scene cannot be built here, or undefined when it can. */
export function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (network namespaces, nftables, NFLOG)';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  for (const tool of ['ip', 'nft', 'tcpdump', 'fail2ban-server', 'fail2ban-client']) {
    if (!findTool(tool)) return `${tool} not found`;
  }
  const missing = Fail2banServer.missingSystemConfig();
  if (missing) return missing;
  const probe = `${NS_PREFIX}${process.pid}-probe`;
  const r = run(['ip', 'netns', 'add', probe]);
  if (r.status !== 0) return `ip netns add failed: ${r.stderr.trim()}`;
  const nft = run(['ip', 'netns', 'exec', probe, 'nft', 'list', 'ruleset']);
  run(['ip', 'netns', 'del', probe]);
  if (nft.status !== 0) return `nft does not work in a namespace: ${nft.stderr.trim()}`;
  return undefined;
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  readonly exited: Promise<void>;
}

export type Role = 'server' | 'scanner' | 'friend' | 'host' | 'fwa' | 'fwb' | 'client';

/** Namespaces, a temp directory and the processes started in them; `destroy` undoes all. */
export class Lab {
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly procs: Proc[] = [];
  private destroyed = false;
  /** What `startScene` removed of earlier, killed runs. */
  removed: string[] = [];

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), `${NS_PREFIX}-${process.pid}-`));
  }

  ns(role: Role): string {
    return `${NS_PREFIX}${process.pid}-${role}`;
  }

  addNamespace(role: Role): string {
    const ns = this.ns(role);
    must(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs argv inside the namespace and returns its stdout; throws unless it exits 0. */
  exec(role: Role, argv: readonly string[], input?: string): string {
    return must(['ip', 'netns', 'exec', this.ns(role), ...argv], input);
  }

  /** Starts a long-lived process inside the namespace; it is stopped by `destroy`. */
  spawn(role: Role, name: string, argv: readonly string[]): Proc {
    const child = spawn('ip', ['netns', 'exec', this.ns(role), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: Proc = {
      name,
      child,
      stdout: '',
      stderr: '',
      exit: null,
      exited: new Promise((res) => {
        child.on('close', (code, signal) => {
          proc.exit = { code, signal };
          res();
        });
      }),
    };
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (proc.stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (proc.stderr += s));
    child.on('error', (err) => (proc.stderr += String(err)));
    this.procs.push(proc);
    return proc;
  }

  /** Runs an agent command (see `agentMain`) inside the namespace; resolves to its JSON answer. */
  async agent<T>(role: Role, command: string, params: object, timeoutMs = 15_000): Promise<T> {
    const argv = ['ip', 'netns', 'exec', this.ns(role), process.execPath, AGENT_JS, command, JSON.stringify(params)];
    const r = await runAsync(argv, timeoutMs);
    if (r.status !== 0) throw new Error(`agent ${command} in ${role} exited ${r.status}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Each process's exit status and output so far, for a failure report. */
  report(): string {
    return this.procs
      .map((p) => `--- ${p.name}: ${p.exit ? `exited ${JSON.stringify(p.exit)}` : 'running'}\n${tail(p.stdout + p.stderr, 15)}`)
      .join('\n');
  }

  /** Stops every process (TERM, then KILL), deletes the namespaces and the temp directory. */
  async destroy(keepDir = false): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    // last started first: fail2ban before pfasciilogd before the listener
    for (const p of [...this.procs].reverse()) {
      if (p.exit) continue;
      p.child.kill('SIGTERM');
      await within(p.exited, 5000);
      if (!p.exit) {
        p.child.kill('SIGKILL');
        await within(p.exited, 2000);
      }
    }
    for (const ns of this.namespaces.reverse()) deleteNamespace(ns);
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface VethEnd {
  role: Role;
  ifname: string;
  /** IPv4 address, given a /24 */
  addr: string;
}

/** A veth pair between two of the lab's namespaces (created in them directly), each end addressed and up. */
export function addVeth(lab: Lab, a: VethEnd, b: VethEnd): void {
  must(['ip', 'link', 'add', a.ifname, 'netns', lab.ns(a.role), 'type', 'veth', 'peer', 'name', b.ifname, 'netns', lab.ns(b.role)]);
  for (const end of [a, b]) {
    must(['ip', '-n', lab.ns(end.role), 'addr', 'add', `${end.addr}/24`, 'dev', end.ifname]);
    must(['ip', '-n', lab.ns(end.role), 'link', 'set', end.ifname, 'up']);
  }
}

// ---------------------------------------------------------------------------
// the scene

export const ADDR = {
  scanner: '10.77.1.2',
  serverForScanner: '10.77.1.1',
  friend: '10.77.2.2',
  trusted: '10.77.2.3',
  serverForFriend: '10.77.2.1',
} as const;

export const OPEN_PORT = 2222;
/** A UDP port whose packets the server logs under another prefix: the capture's readiness signal. */
const READY_PORT = 9;
export const BLOCK_PREFIX = 'pf-block';
const READY_PREFIX = 'pf-ready';
export const JAIL = 'pf';

export interface SceneOptions {
  group: number;
  maxretry: number;
  findtime: number;
  bantime: number;
  backend?: Backend;
  /**
   * nftables "queue-threshold" of the log rules: how many packets the kernel
   * gathers before it hands them to tcpdump (it flushes a partial batch after
   * 1 s, or when its buffer is full). Unset: the kernel's default.
   */
  queueThreshold?: number;
}

export interface Scene {
  lab: Lab;
  /** The log pfasciilogd writes and fail2ban reads. */
  log: string;
  daemon: Proc;
  f2b: Fail2banServer;
  f2bProc: Proc;
  backend: Backend;
  /** Tails of the logs and the processes' output, for a failure report. */
  diagnostics(): string;
}

function firewall(group: number, queueThreshold: number | undefined): string {
  const log = `log group ${group}${queueThreshold === undefined ? '' : ` queue-threshold ${queueThreshold}`}`;
  return `table ip pfe2e {
  chain input {
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ct state established,related accept
    tcp dport ${OPEN_PORT} accept
    udp dport ${READY_PORT} ${log} prefix "${READY_PREFIX}" drop
    ${log} prefix "${BLOCK_PREFIX}" drop
  }
}
`;
}

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Polls `probe` until it returns a value other than undefined/false; throws after timeoutMs. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Builds the whole scene in `lab`: namespaces and links, the server's
 * firewall and open port, pfasciilogd on nflog:<group> (proven to capture),
 * then fail2ban-server with the project's filter and jail (jail running).
 */
export async function startScene(lab: Lab, opts: SceneOptions): Promise<Scene> {
  const log = join(lab.dir, 'pf.log');
  try {
    return await buildScene(lab, opts, log);
  } catch (err) {
    // what there is of the scene, so that a failed setup says where it stopped
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`${msg}\n${lab.report()}\n--- pf.log (tail)\n${tail(readText(log))}`);
  }
}

async function buildScene(lab: Lab, opts: SceneOptions, log: string): Promise<Scene> {
  lab.removed = removeStale();
  lab.addNamespace('server');
  lab.addNamespace('scanner');
  lab.addNamespace('friend');
  const links = [
    { peer: 'scanner' as const, sIf: 's-scan', sAddr: ADDR.serverForScanner, addrs: [ADDR.scanner] },
    { peer: 'friend' as const, sIf: 's-friend', sAddr: ADDR.serverForFriend, addrs: [ADDR.friend, ADDR.trusted] },
  ];
  for (const l of links) {
    must(['ip', 'link', 'add', l.sIf, 'netns', lab.ns('server'), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lab.ns(l.peer)]);
    must(['ip', '-n', lab.ns('server'), 'addr', 'add', `${l.sAddr}/24`, 'dev', l.sIf]);
    must(['ip', '-n', lab.ns('server'), 'link', 'set', l.sIf, 'up']);
    for (const a of l.addrs) must(['ip', '-n', lab.ns(l.peer), 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    must(['ip', '-n', lab.ns(l.peer), 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', lab.ns(l.peer), 'route', 'add', 'default', 'via', l.sAddr]);
  }
  lab.exec('server', ['nft', '-f', '-'], firewall(opts.group, opts.queueThreshold));

  // the open "ssh-like" port
  const listener = lab.spawn('server', 'listener', [process.execPath, AGENT_JS, 'listen', JSON.stringify({ port: OPEN_PORT })]);
  await waitFor(
    'the listener on the open port',
    () => {
      if (listener.exit) throw new Error(`listener exited: ${listener.stderr}`);
      return listener.stdout.includes('listening');
    },
    10_000,
    50,
  );

  // pfasciilogd inside the server namespace (tcpdump sees that namespace's NFLOG)
  const daemon = lab.spawn('server', 'pfasciilogd', [process.execPath, MAIN_JS, '-i', `nflog:${opts.group}`, '-f', log, '-p', join(lab.dir, 'pfasciilogd.pid'), '-u', '']);
  // proven to capture once a packet logged with the readiness prefix shows up
  await waitFor(
    'pfasciilogd to log a packet from nflog (readiness probe)',
    async () => {
      if (daemon.exit) throw new Error(`pfasciilogd exited ${JSON.stringify(daemon.exit)}: ${daemon.stderr}`);
      if (readText(log).includes(`"${READY_PREFIX}"`)) return true;
      await lab.agent('friend', 'udp', { host: ADDR.serverForFriend, port: READY_PORT, from: ADDR.friend });
      return false;
    },
    15_000,
    200,
  );

  const backend = opts.backend ?? fail2banBackend(findTool('fail2ban-server'));
  const f2b = new Fail2banServer(join(lab.dir, 'fail2ban'), {
    jail: JAIL,
    logpath: log,
    backend,
    filter: `pfasciilogd[mode=syn, prefix=${BLOCK_PREFIX}]`,
    action: `nftables[type=allports, name=${JAIL}]`,
    maxretry: opts.maxretry,
    findtime: opts.findtime,
    bantime: opts.bantime,
    ignoreip: ['127.0.0.1/8', '::1', ADDR.trusted],
  });
  // inside the server namespace, so that its nftables action bans there
  const f2bProc = lab.spawn('server', 'fail2ban-server', f2b.serverArgv());
  await waitFor(
    `fail2ban jail ${JAIL} to run`,
    async () => {
      if (f2bProc.exit) throw new Error(`fail2ban-server exited ${JSON.stringify(f2bProc.exit)}: ${f2bProc.stderr}\n${tail(f2b.logText())}`);
      return (await f2b.client(['status', JAIL])).status === 0;
    },
    30_000,
    200,
  );

  return {
    lab,
    log,
    daemon,
    f2b,
    f2bProc,
    backend,
    diagnostics: () =>
      [
        `--- pf.log (tail)\n${tail(readText(log))}`,
        `--- fail2ban log (tail)\n${tail(f2b.logText())}`,
        lab.report(),
        `--- server nftables\n${run(['ip', 'netns', 'exec', lab.ns('server'), 'nft', 'list', 'ruleset']).stdout}`,
      ].join('\n'),
  };
}

/** The addresses in the server's nftables ban set (empty before the first ban). */
export function nftBanned(lab: Lab): string[] {
  const r = run(['ip', 'netns', 'exec', lab.ns('server'), 'nft', '-j', 'list', 'set', 'inet', 'f2b-table', `addr-set-${JAIL}`]);
  if (r.status !== 0) return [];
  const out: string[] = [];
  for (const item of (JSON.parse(r.stdout) as { nftables: Array<{ set?: { elem?: unknown[] } }> }).nftables) {
    for (const e of item.set?.elem ?? []) if (typeof e === 'string') out.push(e);
  }
  return out.sort();
}

// ---------------------------------------------------------------------------
// the agent: TCP and UDP from inside a namespace

/** "connected", "timeout", or an errno code such as ECONNREFUSED. */
export type Outcome = string;

export interface ConnectResult {
  outcome: Outcome;
  /** What the server sent before closing (the listener sends "ok\n"). */
  data: string;
  ms: number;
}

export interface ProbeResult {
  outcomes: Record<string, Outcome>;
}

export interface RaceResult {
  /** Epoch ms of the first probe. */
  t0: number;
  /** From the first probe to the first refused connect to the open port; null when the limit passed. */
  ms: number | null;
  outcome: Outcome;
  attempts: number;
}

function connectOnce(host: string, port: number, from: string | undefined, timeoutMs: number, readData: boolean): Promise<ConnectResult> {
  const start = performance.now();
  return new Promise((res) => {
    const sock = net.connect({ host, port, ...(from ? { localAddress: from } : {}) });
    let data = '';
    let outcome: Outcome | null = null;
    const done = (o: Outcome) => {
      if (outcome !== null) return;
      outcome = o;
      clearTimeout(timer);
      sock.destroy();
      res({ outcome: o, data, ms: performance.now() - start });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (s: string) => (data += s));
    sock.on('connect', () => {
      if (!readData) done('connected');
    });
    sock.on('end', () => done('connected'));
    sock.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? String(err)));
  });
}

interface AgentParams {
  host: string;
  port: number;
  ports: number[];
  /** relay: the host whose open port is tried after the probes to `host` */
  host2: string;
  from?: string;
  timeoutMs: number;
  pollMs: number;
  limitMs: number;
}


/**
 * Sends the probes (all at once), then connects to `target`'s open port every
 * pollMs until it is refused. `ms` runs from the probes; the ban was in force
 * when the attempt that failed sent its SYN, less than pollMs + one connect
 * after that attempt began.
 */
async function tryUntilRefused(p: AgentParams, target: string): Promise<RaceResult> {
  const t0 = Date.now();
  const start = performance.now();
  const probes = Promise.all(p.ports.map((port) => connectOnce(p.host, port, p.from, p.timeoutMs, false)));
  let attempts = 0;
  let last: Outcome = '';
  while (performance.now() - start < p.limitMs) {
    attempts++;
    const at = performance.now() - start;
    const r = await connectOnce(target, p.port, p.from, p.timeoutMs, false);
    last = r.outcome;
    if (r.outcome !== 'connected') {
      await probes;
      return { t0, ms: at, outcome: r.outcome, attempts };
    }
    await sleep(p.pollMs);
  }
  await probes;
  return { t0, ms: null, outcome: last, attempts };
}

async function agentMain(command: string, p: AgentParams): Promise<unknown> {
  switch (command) {
    case 'listen':
      // answers every connection with "ok\n"; runs until killed
      await new Promise<void>((res, rej) => {
        const srv = net.createServer((s) => {
          s.on('error', () => {}); // a client that resets before "ok" arrives
          s.end('ok\n');
        });
        srv.on('error', rej);
        srv.listen(p.port, () => res());
      });
      process.stdout.write('listening\n');
      return new Promise(() => {});
    case 'udp':
      await new Promise<void>((res, rej) => {
        const s = dgram.createSocket('udp4');
        s.on('error', rej);
        s.bind({ address: p.from }, () => s.send('ready', p.port, p.host, () => (s.close(), res())));
      });
      return {};
    case 'connect':
      return connectOnce(p.host, p.port, p.from, p.timeoutMs, true);
    case 'probe': {
      // one SYN per port, all at once; the firewall drops them, so each times out
      const results = await Promise.all(p.ports.map((port) => connectOnce(p.host, port, p.from, p.timeoutMs, false)));
      return { outcomes: Object.fromEntries(p.ports.map((port, i) => [String(port), results[i]!.outcome])) } satisfies ProbeResult;
    }
    case 'race':
      // probe, then try the open port until it is refused: the ban took effect
      return tryUntilRefused(p, p.host);
    case 'relay':
      // probe one host, then try the open port of ANOTHER until it stops
      // answering: a ban shared by the fleet took effect
      return tryUntilRefused(p, p.host2);
    default:
      throw new Error(`unknown agent command ${command}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  agentMain(process.argv[2] ?? '', JSON.parse(process.argv[3] ?? '{}') as AgentParams).then(
    (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
