// The pidfile, written by root in a directory others may be able to write to
// (the BSDs have no protected_symlinks), so nothing here opens a predictable
// name without O_CREAT|O_EXCL|O_NOFOLLOW, or writes through a name at all:
//  - the pid goes into a new temporary file with an unpredictable name
//    (created O_EXCL|O_NOFOLLOW, mode 0644), which is then linked into place
//    (link(2) fails if the pidfile exists: when there is none, no window where
//    two instances both win, and a reader never sees it half written), or
//    renamed over a stale pidfile (two starts over the same stale pidfile can
//    still race there: without flock(2) the loser is caught only if it looks
//    after the winner's rename); both act on names, never through a link;
//  - "already running" means the pid in the pidfile is a running pfasciilogd
//    of our own user (process-identity.ts), not merely a live process;
//  - a pidfile that is a symbolic link or not a regular file is refused
//    (EX_CANTCREAT) and left alone: someone put it there, the admin decides;
//  - on exit it is removed only if it is still the file this process
//    published, with our pid in it.

import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isPfasciilogd } from './process-identity.js';
import { EX_CANTCREAT, EX_RUNNING, ExitError, describeErrno } from '../util/sysexits.js';
import { fileKind } from '../util/file-kind.js';

const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const PID_MODE = 0o644;
/** more than any pid and its newline: a huge "pidfile" is not read whole */
const PID_TEXT_MAX = 32;

/** The pidfiles this process published: path -> the file and the pid in it. */
const published = new Map<string, { dev: number; ino: number; pid: number }>();

/** Whether a process exists (EPERM: it does, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a pidfile's text, or null for anything else. */
export function parsePid(text: string): number | null {
  const t = text.trim();
  return /^\d{1,10}$/.test(t) && Number(t) > 0 ? Number(t) : null;
}

/** "a symbolic link", "a directory", ... for messages. */
function refuse(path: string, st: fs.Stats): never {
  throw new ExitError(`pidfile ${path} is ${fileKind(st)}, not a regular file; refusing to replace it (remove it, or pass -p with another path)`, EX_CANTCREAT);
}

/**
 * What a pidfile holds: the pid, or null (empty, garbage, gone). Read without
 * following a link or blocking on a FIFO; throws ExitError if the name is not
 * a regular file.
 */
export function readPidfile(path: string): { pid: number | null; st: fs.Stats } | null {
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP' || code === 'EMLINK') refuse(path, fs.lstatSync(path));
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) refuse(path, st);
    const buf = Buffer.alloc(PID_TEXT_MAX);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return { pid: parsePid(buf.toString('latin1', 0, n)), st };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * 8 bytes from the kernel's random source, as hex. Read from /dev/urandom
 * (there on Linux and the BSDs) rather than through node:crypto, whose
 * OpenSSL start-up would add 2 MB to a daemon that otherwise never needs it.
 */
function randomHex(): string {
  const b = Buffer.alloc(8);
  const fd = fs.openSync('/dev/urandom', O_RDONLY);
  try {
    if (fs.readSync(fd, b, 0, b.length, null) !== b.length) throw new Error('/dev/urandom: short read');
  } finally {
    fs.closeSync(fd);
  }
  return b.toString('hex');
}

/** A new file next to `path`, with an unpredictable name, holding "PID\n". */
function writeTemp(path: string, pid: number): { tmp: string; st: fs.Stats } {
  const dir = dirname(path);
  for (let attempt = 0; ; attempt++) {
    const tmp = join(dir, `.${basename(path)}.${randomHex()}.tmp`);
    let fd: number;
    try {
      fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, PID_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
      throw err;
    }
    try {
      fs.fchmodSync(fd, PID_MODE); // ours: we just created it; 0644 whatever the umask
      fs.writeSync(fd, `${pid}\n`, 0, 'latin1');
      return { tmp, st: fs.fstatSync(fd) };
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    } finally {
      fs.closeSync(fd);
    }
  }
}

export function acquirePidfile(path: string, pid: number = process.pid): void {
  let temp: { tmp: string; st: fs.Stats };
  try {
    temp = writeTemp(path, pid);
  } catch (err) {
    throw new ExitError(`cannot write pidfile ${path}: ${describeErrno(err)}`, EX_CANTCREAT);
  }
  try {
    try {
      fs.linkSync(temp.tmp, path); // fails if the name exists, whatever it is (a dangling link too)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const other = readPidfile(path)?.pid ?? null;
      if (other !== null && other !== pid && isPfasciilogd(other)) {
        throw new ExitError(`already running as pid ${other} (pidfile ${path})`, EX_RUNNING);
      }
      fs.renameSync(temp.tmp, path); // stale: replace the name atomically
      // Two starts over one stale pidfile can both get here; the later
      // rename wins the name. Without flock(2) this narrows the window
      // rather than closing it: the one whose file is no longer there stops.
      const now = readPidfile(path);
      if (now !== null && (now.st.dev !== temp.st.dev || now.st.ino !== temp.st.ino)) {
        throw new ExitError(`already running as pid ${now.pid ?? '?'} (pidfile ${path}, replaced while this one started)`, EX_RUNNING);
      }
    }
    published.set(path, { dev: temp.st.dev, ino: temp.st.ino, pid });
  } catch (err) {
    if (err instanceof ExitError) throw err;
    throw new ExitError(`cannot write pidfile ${path}: ${describeErrno(err)}`, EX_CANTCREAT);
  } finally {
    fs.rmSync(temp.tmp, { force: true });
  }
}

/** Removes the pidfile if it is still the one this process published for `pid`. */
export function releasePidfile(path: string, pid: number = process.pid): void {
  const mine = published.get(path);
  if (mine === undefined || mine.pid !== pid) return;
  published.delete(path);
  try {
    const now = readPidfile(path);
    if (now === null || now.pid !== pid || now.st.dev !== mine.dev || now.st.ino !== mine.ino) return;
    fs.unlinkSync(path);
  } catch {
    // replaced by something that is not ours, or gone: leave it
  }
}
