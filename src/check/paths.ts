// -f and -p: the daemon can create and write the log file and the pidfile,
// and nobody else can change what those names are. The log must be a regular
// file with one link, the daemon's user's, and no symbolic link (the daemon
// refuses anything else; an -o output may also be a FIFO of that user's or
// a character device); the pidfile is written next to itself and linked or
// renamed into place, so its directory must be writable. A directory on the
// way that others can write (without the sticky bit, or sticky but not
// root's) lets them put a link or a file of theirs at those names: the daemon
// refuses it, so it can stop the daemon from starting or after a rotation.

import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readPidfile } from '../daemon/pidfile.js';
import { isPfasciilogd, processIdentity } from '../daemon/process-identity.js';
import { type CheckResult, ok, problem } from './result.js';
import { effectiveUid } from '../util/euid.js';
import { fileKind } from '../util/file-kind.js';

function uid(): string {
  return typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'this user';
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * Whether someone other than root and us can rename, remove or create names
 * in `dir` or in a directory above it (and so replace the file, or put a link
 * there): a problem, or null.
 */
function unsafeDirectory(subject: string, dir: string, flag: string): CheckResult | null {
  let d: string;
  try {
    d = fs.realpathSync(dir);
  } catch {
    return null; // reported by the caller's own checks
  }
  const elsewhere = `or pass ${flag} with a path in a directory only root can write`;
  for (;;) {
    let st: fs.Stats;
    try {
      st = fs.statSync(d);
    } catch {
      return null;
    }
    const writable = st.mode & 0o022;
    const sticky = (st.mode & 0o1000) !== 0;
    const who = st.mode & 0o002 ? 'others' : 'its group';
    if (writable && !sticky) {
      return problem(subject, `directory ${d} (mode ${octal(st.mode)}) is writable by ${who} without the sticky bit: they can replace the file or put a link in its place`, `chmod go-w ${d}, ${elsewhere}`);
    }
    if (writable && st.uid !== 0) {
      return problem(subject, `directory ${d} (mode ${octal(st.mode)}) is sticky but owned by uid ${st.uid}, not root: its owner can replace the file or put a link in its place`, `chown root ${d}, ${elsewhere}`);
    }
    if (st.uid !== 0 && st.uid !== effectiveUid()) {
      return problem(subject, `directory ${d} is owned by uid ${st.uid}, who can replace the file or put a link in its place`, `chown root ${d}, ${elsewhere}`);
    }
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

/** A problem with the directory a file goes in (missing, not a directory, not writable), or null. */
export function directoryProblem(subject: string, file: string, flag: string): CheckResult | null {
  const dir = dirname(resolve(file));
  const elsewhere = `pass ${flag} with a path in a writable directory`;
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return problem(subject, `directory ${dir} does not exist`, `create it (mkdir -p ${dir}), or ${elsewhere}`);
    if (code === 'ENOTDIR') return problem(subject, `${dir} is not a directory: part of that path is a file`, elsewhere);
    return problem(subject, `directory ${dir} cannot be examined (${code ?? String(err)})`, elsewhere);
  }
  if (!st.isDirectory()) return problem(subject, `${dir} is ${fileKind(st)}, not a directory`, elsewhere);
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : `is not writable by ${uid()}`;
    return problem(subject, `directory ${dir} ${why}`, `run the daemon (and this check) as root, or ${elsewhere}`);
  }
  return unsafeDirectory(subject, dir, flag);
}

/** The log file (-f) or an output (-o; `flag` then names it, as "-o json:PATH"). */
export function checkLogFile(path: string, flag = '-f'): CheckResult {
  const subject = `log file ${path}`;
  const dirBad = directoryProblem(subject, path, flag);
  if (dirBad) return dirBad;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ok(subject, `does not exist yet; the daemon creates it (mode 0640) in ${dirname(resolve(path))}, which is writable`);
    return problem(subject, `cannot be examined (${code ?? String(err)})`, `pass ${flag} with another path`);
  }
  if (st.isSymbolicLink()) {
    let target = '';
    try {
      target = ` to ${fs.readlinkSync(path)}`;
    } catch {
      // gone meanwhile: still say what it was
    }
    return problem(subject, `a symbolic link${target}, which the daemon refuses to write through`, `replace it with a regular file (rm ${path}; the daemon creates it), or pass ${flag} with the real path`);
  }
  // An -o output may be a FIFO of the daemon's user (its reader started
  // first) or a character device, as the daemon accepts them; -f is what
  // fail2ban reads, which wants a regular file.
  if (flag !== '-f' && st.isCharacterDevice()) return ok(subject, 'a character device; the daemon writes to it');
  if (flag !== '-f' && st.isFIFO()) {
    if (st.uid !== effectiveUid()) return problem(subject, `a FIFO owned by uid ${st.uid}, not by uid ${effectiveUid()}, the daemon's: the daemon refuses to write to it`, `rm ${path} and make it again as the daemon's user, or pass ${flag} with another path`);
    return ok(subject, "a FIFO of the daemon's user; start its reader before the daemon (without one, the daemon exits 73)");
  }
  if (!st.isFile()) {
    return problem(subject, `${fileKind(st)}, not a regular file that fail2ban can read`, `remove it, or pass ${flag} with the path of a regular file${flag === '-f' ? " (the jail's logpath)" : ''}`);
  }
  if (st.nlink > 1) {
    return problem(subject, `has ${st.nlink} links (a hard link to another file), which the daemon refuses to write through`, `rm ${path} (the daemon creates it), or pass ${flag} with another path`);
  }
  if (st.uid !== effectiveUid()) {
    return problem(subject, `owned by uid ${st.uid}, not by uid ${effectiveUid()}, the daemon's (run as root): the daemon refuses to write to it`, `rm ${path} (the daemon creates it), or chown root ${path}`);
  }
  if (st.mode & 0o022) {
    return problem(subject, `writable by ${st.mode & 0o002 ? 'others' : 'its group'} (mode ${octal(st.mode)}): they can add lines that fail2ban acts on`, `chmod 640 ${path}`);
  }
  try {
    fs.accessSync(path, fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return problem(subject, code === 'EROFS' ? 'on a read-only file system' : `not writable by ${uid()}`, `run the daemon (and this check) as root, or pass ${flag} with a writable path`);
  }
  return ok(subject, `regular file, ${st.size} bytes, writable`);
}

export function checkPidFile(path: string): CheckResult {
  const subject = `pidfile ${path}`;
  const dirBad = directoryProblem(subject, path, '-p');
  if (dirBad) return dirBad;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ok(subject, `does not exist yet; ${dirname(resolve(path))} is writable`);
    return problem(subject, `cannot be examined (${code ?? String(err)})`, 'pass -p with another path');
  }
  if (!st.isFile()) return problem(subject, `${fileKind(st)}, not a pidfile: the daemon refuses to start with it (exit 73)`, `remove it, or pass -p with another path`);
  let pid: number | null = null;
  try {
    pid = readPidfile(path)?.pid ?? null; // as the daemon reads it
  } catch {
    // unreadable: the daemon treats it as stale
  }
  if (pid !== null && isPfasciilogd(pid)) {
    return ok(subject, `names pid ${pid}, a running pfasciilogd (with this pidfile a second instance refuses to start)`);
  }
  if (pid !== null && processIdentity(pid) !== null) {
    return ok(subject, `stale: pid ${pid} is running but is not pfasciilogd; the daemon replaces it`);
  }
  return ok(subject, 'stale (no running process); the daemon replaces it');
}
