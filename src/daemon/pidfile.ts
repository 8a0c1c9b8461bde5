// The pidfile: written atomically (a complete file is linked into place, so a
// reader never sees it half written), refused while another live instance
// holds it, replaced when stale, removed on exit only if it is still ours.

import * as fs from 'node:fs';
import { EX_CANTCREAT, EX_RUNNING, ExitError, describeErrno } from '../util/sysexits.js';

function readPid(path: string): number | null {
  try {
    const text = fs.readFileSync(path, 'latin1').trim();
    return /^\d{1,10}$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** Whether a process exists (EPERM: it does, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquirePidfile(path: string, pid: number = process.pid): void {
  const tmp = `${path}.${pid}.tmp`;
  try {
    fs.writeFileSync(tmp, `${pid}\n`, { mode: 0o644, flag: 'w' });
  } catch (err) {
    throw new ExitError(`cannot write pidfile ${path}: ${describeErrno(err)}`, EX_CANTCREAT);
  }
  try {
    try {
      fs.linkSync(tmp, path); // fails if the pidfile exists: no window where two instances both win
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const other = readPid(path);
    if (other !== null && other !== pid && isAlive(other)) {
      throw new ExitError(`already running as pid ${other} (pidfile ${path})`, EX_RUNNING);
    }
    fs.renameSync(tmp, path); // stale: replace it atomically
  } catch (err) {
    if (err instanceof ExitError) throw err;
    throw new ExitError(`cannot write pidfile ${path}: ${describeErrno(err)}`, EX_CANTCREAT);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export function releasePidfile(path: string, pid: number = process.pid): void {
  if (readPid(path) === pid) fs.rmSync(path, { force: true });
}
