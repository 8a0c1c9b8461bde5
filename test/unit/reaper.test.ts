// The reaper's sh loop, run by each POSIX shell the daemon may meet: dash
// (Debian's /bin/sh), bash in POSIX mode, and mksh (a pdksh, as OpenBSD's
// /bin/sh is). FreeBSD's /bin/sh is an ash, as dash is.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { REAPER_NAME, REAPER_SCRIPT } from '../../src/daemon/reaper.js';
import { isAlive } from '../../src/daemon/pidfile.js';
import { findTool, unavailable } from '../support/unavailable.js';

const SHELLS: Array<[string, string[]]> = [
  ['dash', []],
  ['bash', ['--posix']],
  ['mksh', []],
];

function startReaper(shell: string, flags: string[]): ChildProcess {
  return spawn(shell, [...flags, '-c', REAPER_SCRIPT, REAPER_NAME], { stdio: ['pipe', 'ignore', 'pipe'] });
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}

/** Resolves once `pid` ignores `sig` (its trap has run): Linux /proc SigIgn. */
async function ignoring(pid: number, sig: NodeJS.Signals): Promise<void> {
  const bit = 1n << BigInt(os.constants.signals[sig] - 1);
  for (let i = 0; i < 200; i++) {
    const mask = /^SigIgn:\s+([0-9a-f]+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    if (mask !== undefined && (BigInt(`0x${mask}`) & bit) !== 0n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`pid ${pid} never ignored ${sig}`);
}

function shellOrSkip(t: TestContext, name: string): string | undefined {
  const path = findTool(name);
  if (!path) unavailable(t, `${name} not found (Debian: apt-get install ${name})`);
  return path;
}

for (const [name, flags] of SHELLS) {
  test(`${name}: at the end of stdin the reaper TERMs the pid it holds, ignoring the group's signals until then`, { timeout: 10_000 }, async (t) => {
    const shell = shellOrSkip(t, name);
    if (!shell) return;
    const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
    t.after(() => victim.kill('SIGKILL'));
    const reaper = startReaper(shell, flags);
    reaper.stdin!.write(`junk\n-5\n${victim.pid}\n`);
    await ignoring(reaper.pid!, 'SIGTERM');
    reaper.kill('SIGTERM'); // a service manager's TERM to the group: the daemon's to act on
    reaper.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(reaper.exitCode, null, 'still waiting for stdin to end');
    assert.ok(isAlive(victim.pid!), 'nothing signalled before the daemon is gone');
    reaper.stdin!.end();
    assert.deepEqual(await exitOf(victim), { code: null, signal: 'SIGTERM' });
    assert.deepEqual(await exitOf(reaper), { code: 0, signal: null });
  });

  test(`${name}: a pid that ignores TERM is KILLed; "0" (tcpdump exited) leaves nothing to signal`, { timeout: 10_000 }, async (t) => {
    const shell = shellOrSkip(t, name);
    if (!shell) return;
    // ignored signals stay ignored across exec: this sleep can only be KILLed
    const deaf = spawn('sh', ['-c', "trap '' TERM; exec sleep 30"], { stdio: 'ignore' });
    t.after(() => deaf.kill('SIGKILL'));
    await new Promise((r) => setTimeout(r, 50));
    const reaper = startReaper(shell, flags);
    reaper.stdin!.end(`${deaf.pid}\n`);
    assert.deepEqual(await exitOf(deaf), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(await exitOf(reaper), { code: 0, signal: null });

    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    t.after(() => bystander.kill('SIGKILL'));
    const idle = startReaper(shell, flags);
    idle.stdin!.end(`${bystander.pid}\n0\n`);
    assert.deepEqual(await exitOf(idle), { code: 0, signal: null });
    assert.ok(isAlive(bystander.pid!), 'a pid released with 0 is not signalled');
  });
}
