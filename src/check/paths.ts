// -f and -p: the daemon can create and write the log file and the pidfile.
// The log must be a regular file and no symbolic link (the daemon opens it
// with O_NOFOLLOW); the pidfile is written next to itself and renamed into
// place, so its directory must be writable.

import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isAlive } from '../daemon/pidfile.js';
import { type CheckResult, ok, problem } from './result.js';

function uid(): string {
  return typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'this user';
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFile()) return 'a file';
  return 'not a regular file';
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
  if (!st.isDirectory()) return problem(subject, `${dir} is ${kindOf(st)}, not a directory`, elsewhere);
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : `is not writable by ${uid()}`;
    return problem(subject, `directory ${dir} ${why}`, `run the daemon (and this check) as root, or ${elsewhere}`);
  }
  return null;
}

export function checkLogFile(path: string): CheckResult {
  const subject = `log file ${path}`;
  const dirBad = directoryProblem(subject, path, '-f');
  if (dirBad) return dirBad;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ok(subject, `does not exist yet; the daemon creates it (mode 0640) in ${dirname(resolve(path))}, which is writable`);
    return problem(subject, `cannot be examined (${code ?? String(err)})`, 'pass -f with another path');
  }
  if (st.isSymbolicLink()) {
    let target = '';
    try {
      target = ` to ${fs.readlinkSync(path)}`;
    } catch {
      // gone meanwhile: still say what it was
    }
    return problem(subject, `a symbolic link${target}, which the daemon refuses to write through`, `replace it with a regular file (rm ${path}; the daemon creates it), or pass -f with the real path`);
  }
  if (!st.isFile()) {
    return problem(subject, `${kindOf(st)}, not a regular file that fail2ban can read`, `remove it, or pass -f with the path of a regular file (the jail's logpath)`);
  }
  try {
    fs.accessSync(path, fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return problem(subject, code === 'EROFS' ? 'on a read-only file system' : `not writable by ${uid()}`, 'run the daemon (and this check) as root, or pass -f with a writable path');
  }
  return ok(subject, `regular file, ${st.size} bytes, writable`);
}

export function checkPidFile(path: string): CheckResult {
  const subject = `pidfile ${path}`;
  const dirBad = directoryProblem(subject, path, '-p');
  if (dirBad) return dirBad;
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ok(subject, `does not exist yet; ${dirname(resolve(path))} is writable`);
    return problem(subject, `cannot be examined (${code ?? String(err)})`, 'pass -p with another path');
  }
  if (!st.isFile()) return problem(subject, `${kindOf(st)}, not a pidfile`, 'remove it, or pass -p with another path');
  let text = '';
  try {
    text = fs.readFileSync(path, 'latin1').trim();
  } catch {
    // unreadable: the daemon treats it as stale
  }
  if (/^\d{1,10}$/.test(text) && isAlive(Number(text))) {
    return ok(subject, `names running pid ${text}, pfasciilogd's if it is running (with this pidfile a second instance refuses to start)`);
  }
  return ok(subject, 'stale (no running process); the daemon replaces it');
}
