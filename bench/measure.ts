// Runs one job (a relay, a decoder) to completion: wall-clock time from the
// first spawn until every process of the job has exited, and the peak RSS
// and CPU time of the one process that does the work. Peak RSS comes from GNU
// time's %M (the kernel's ru_maxrss, exact) when /usr/bin/time is
// GNU-compatible, else from polling VmHWM in /proc/<pid>/status every 20 ms
// (may miss a last rise); CPU time (%U + %S) only from GNU time.

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface Started {
  /** the process whose memory is measured (spawned through `wrap`) */
  measured: ChildProcess;
  /** every process of the job (measured included); all must exit 0 */
  all: ChildProcess[];
}

/** Turns the measured command into the one to spawn. */
export type Wrap = (command: string, args: readonly string[]) => [string, string[]];

export interface RunResult {
  seconds: number;
  /** peak resident set size in bytes; null if it could not be measured */
  peakRssBytes: number | null;
  /** user + system CPU seconds of the measured process; null without GNU time */
  cpuSeconds: number | null;
  /** null when every process exited 0, else what went wrong */
  failure: string | null;
}

const TIME = '/usr/bin/time';
const POLL_MS = 20;
/** GNU time's output: peak RSS in KiB, user and system seconds */
const FORMAT = '%M %U %S';

let gnuTime: boolean | undefined;

/** How peak RSS is measured here, for the report header. */
export function rssMethod(): string {
  gnuTime ??= spawnSync(TIME, ['-f', FORMAT, '-o', '/dev/null', 'true'], { stdio: 'ignore' }).status === 0;
  return gnuTime ? `${TIME} -f %M (ru_maxrss)` : `VmHWM polled every ${POLL_MS} ms`;
}

/** VmHWM of a live process in bytes, or null (gone, zombie, no /proc). */
export function readVmHWM(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Collects a child's stderr (when piped) and resolves with null or what went wrong once it has exited. */
function finished(cp: ChildProcess, name: string): Promise<string | null> {
  let stderr = '';
  cp.stderr?.setEncoding('utf8');
  cp.stderr?.on('data', (s: string) => {
    if (stderr.length < 8192) stderr += s;
  });
  return new Promise((resolve) => {
    cp.on('error', (err) => resolve(`${name}: ${err.message}`));
    cp.on('close', (code, signal) => {
      if (code === 0) return resolve(null);
      const how = signal !== null ? `killed by ${signal}` : `exit status ${code}`;
      const tail = stderr.trim().split('\n').slice(-5).join(' | ');
      resolve(`${name}: ${how}${tail ? `: ${tail}` : ''}`);
    });
  });
}

/** `start` spawns the job, the measured process (`name`) through `wrap`; `scratch` is a directory for GNU time's output. */
export async function runMeasured(scratch: string, name: string, start: (wrap: Wrap) => Started): Promise<RunResult> {
  const useTime = rssMethod().startsWith(TIME);
  const rssFile = path.join(scratch, `maxrss.${process.pid}.${Date.now()}`);
  const wrap: Wrap = (command, args) => (useTime ? [TIME, ['-f', FORMAT, '-o', rssFile, command, ...args]] : [command, [...args]]);

  const t0 = performance.now();
  const { measured, all } = start(wrap);
  const done = Promise.all(all.map((cp) => finished(cp, cp === measured ? name : cp.spawnfile)));
  let peak: number | null = null;
  let cpu: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  if (!useTime) {
    const poll = () => {
      const v = measured.pid === undefined ? null : readVmHWM(measured.pid);
      if (v !== null && (peak === null || v > peak)) peak = v;
    };
    poll();
    timer = setInterval(poll, POLL_MS);
  }
  const failures = await done;
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  if (useTime) {
    // GNU time may put "Command exited with non-zero status N" first; FORMAT is the last line.
    const last = fs.existsSync(rssFile) ? fs.readFileSync(rssFile, 'latin1').trim().split('\n').pop() : undefined;
    const m = last === undefined ? null : /^(\d+) (\d+\.\d+) (\d+\.\d+)$/.exec(last);
    if (m !== null) {
      peak = Number(m[1]) * 1024;
      cpu = Number(m[2]) + Number(m[3]);
    }
    fs.rmSync(rssFile, { force: true });
  }
  const failure = failures.filter((f) => f !== null).join('; ') || null;
  return { seconds, peakRssBytes: peak, cpuSeconds: cpu, failure };
}

/** spawn() with stdin closed, stdout discarded and stderr collected, unless `opts` says otherwise. */
export function start(command: string, args: readonly string[], opts: SpawnOptions): ChildProcess {
  return spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
}
