// Whether a pid belongs to a running pfasciilogd. Node has no flock(2), so the
// pidfile cannot be a held lock: "already running" is decided by what the
// process the pidfile names actually is, not by kill(pid, 0), which is true
// for any process that happens to have that pid now (after a SIGKILL or an
// OOM kill the pid is soon reused: `echo 1 > pidfile` must not block start).
//
// A process counts as pfasciilogd when it runs with our effective uid (an
// unprivileged user can give a process any name, but not root's uid) and its
// argument list names pfasciilogd:
//  - "pfasciilogd", the process title the daemon sets on Linux, where the
//    title replaces the whole of /proc/PID/cmdline;
//  - "node: pfasciilogd", what setproctitle(3) shows on the BSDs;
//  - node [node options] .../pfasciilogd ..., as the rc.d scripts and the
//    systemd unit start it (and as the BSDs show it: there the daemon keeps
//    its argument list, by which OpenBSD's rc.subr finds it), or
//    .../pfasciilogd.js, the file that bin link points to, run by hand.
// Linux: /proc/PID/status and /proc/PID/cmdline. Elsewhere: ps(1), run with an
// argv array, no shell.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { basename } from 'node:path';
import { effectiveUid } from '../util/euid.js';

export const DAEMON_TITLE = 'pfasciilogd';

export interface ProcessIdentity {
  /** effective uid */
  euid: number;
  /** the argument list as the kernel shows it (a title replaces it) */
  argv: string[];
}

export type IdentitySource = 'proc' | 'ps';

const PS = '/bin/ps';

/** Where this system shows other processes' uids and arguments. */
export function identitySource(): IdentitySource {
  return process.platform === 'linux' && fs.existsSync('/proc/self/cmdline') ? 'proc' : 'ps';
}

function fromProc(pid: number): ProcessIdentity | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    if (!uids) return null;
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
    while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
    return { euid: Number(uids[2]), argv };
  } catch {
    return null; // no such process (or it exited while we looked)
  }
}

function fromPs(pid: number): ProcessIdentity | null {
  // -ww: the whole argument list, however long; "uid" is the effective uid on
  // the BSDs and on Linux (procps).
  const r = spawnSync(PS, ['-ww', '-p', String(pid), '-o', 'uid=', '-o', 'args='], { encoding: 'latin1', timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  const m = /^\s*(\d+)\s+(.*?)\s*$/m.exec(r.stdout);
  if (!m) return null;
  return { euid: Number(m[1]), argv: m[2]!.split(/\s+/).filter((w) => w !== '') };
}

/** The uid and arguments of a running process, or null if there is none with that pid. */
export function processIdentity(pid: number, source: IdentitySource = identitySource()): ProcessIdentity | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return source === 'proc' ? fromProc(pid) : fromPs(pid);
}

/** Whether an argument list (as /proc or ps shows it) is pfasciilogd's. */
export function argvNamesPfasciilogd(argv: readonly string[]): boolean {
  const [first, ...rest] = argv;
  if (first === undefined) return false;
  if (first === DAEMON_TITLE) return true;
  if (first.endsWith(':') && rest[0] === DAEMON_TITLE) return true;
  if (!/^node/.test(basename(first))) return false;
  const program = rest.find((w) => !w.startsWith('-'));
  return program !== undefined && (basename(program) === DAEMON_TITLE || basename(program) === `${DAEMON_TITLE}.js`);
}

/** Whether `pid` is a running pfasciilogd of our own effective user. */
export function isPfasciilogd(pid: number, source: IdentitySource = identitySource()): boolean {
  const id = processIdentity(pid, source);
  return id !== null && id.euid === effectiveUid() && argvNamesPfasciilogd(id.argv);
}

/**
 * Names this process "pfasciilogd" where that does no harm: on Linux, where
 * nothing finds the daemon by its arguments (systemd and logrotate use the
 * pidfile). Not on the BSDs: setproctitle(3) would turn the arguments into
 * "node: pfasciilogd", and OpenBSD's rc.subr finds the daemon by matching its
 * whole argument list (pexp).
 */
export function setDaemonTitle(): void {
  if (process.platform === 'linux') process.title = DAEMON_TITLE;
}
