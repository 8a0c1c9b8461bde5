// Running the system's tools for the checks: always execFile with an argv
// array (no shell), with a timeout, and never throwing - a tool that is
// missing, fails or hangs is a finding, not a crash.

import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describeErrno } from '../util/sysexits.js';

export interface ToolRun {
  /** exit status; null when killed by a signal or not started */
  code: number | null;
  stdout: string;
  stderr: string;
  /** why it could not be started or was stopped (ENOENT, timed out), else null */
  error: string | null;
}

export function runTool(command: string, args: readonly string[], timeoutMs = 30_000): Promise<ToolRun> {
  return new Promise((resolve) => {
    try {
      // LC_ALL=C: messages in plain ASCII, not the locale's quotation marks
      const env = { ...process.env, LC_ALL: 'C' };
      execFile(command, args, { encoding: 'latin1', env, timeout: timeoutMs, maxBuffer: 16 << 20, windowsHide: true }, (err, stdout, stderr) => {
        if (err === null) {
          resolve({ code: 0, stdout, stderr, error: null });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: NodeJS.Signals | null };
        if (typeof e.code === 'number') {
          resolve({ code: e.code, stdout, stderr, error: null });
        } else if (e.killed || e.signal) {
          resolve({ code: null, stdout, stderr, error: e.killed ? `no answer within ${timeoutMs / 1000} s` : `killed by ${e.signal}` });
        } else {
          resolve({ code: null, stdout, stderr, error: describeErrno(err) });
        }
      });
    } catch (err) {
      resolve({ code: null, stdout: '', stderr: '', error: describeErrno(err) });
    }
  });
}

/** Where administrators' tools live, whether or not they are on PATH (sudo, cron and rc keep PATH short). */
export const SYSTEM_DIRS = ['/sbin', '/usr/sbin', '/usr/local/sbin', '/bin', '/usr/bin', '/usr/local/bin'];

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The file execvp would run for `name`: `name` itself if it holds a slash,
 * else the first executable on PATH; then, if `alsoSystemDirs`, the usual
 * sbin and bin directories.
 */
export function findExecutable(name: string, alsoSystemDirs = false, path: string = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return isExecutableFile(name) ? name : undefined;
  const dirs = path.split(delimiter).filter((d) => d !== '');
  if (alsoSystemDirs) dirs.push(...SYSTEM_DIRS);
  for (const d of dirs) {
    const p = join(d, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/** The first non-empty line of a tool's message, trimmed, for a one-line report. */
export function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}
