// -u: the user tcpdump drops its privileges to (tcpdump -Z USER) exists.

import { type CheckResult, ok, problem, skip } from './result.js';
import { findExecutable, firstLine, runTool } from './tools.js';

export async function checkUser(user: string, platform: NodeJS.Platform = process.platform): Promise<CheckResult> {
  if (user === '') {
    if (platform === 'openbsd') return ok("user ''", "OpenBSD's tcpdump drops its privileges to _tcpdump by itself");
    return skip("user ''", 'tcpdump runs without -Z and keeps its privileges');
  }
  const subject = `user ${user}`;
  if (platform === 'openbsd') return problem(subject, "OpenBSD's tcpdump has no -Z option", "pass -u '' (it drops its privileges to _tcpdump by itself)");
  const id = findExecutable('id', true);
  if (id === undefined) return skip(subject, 'id(1) not found, cannot look the user up');
  const r = await runTool(id, ['-u', '--', user], 10_000);
  if (r.code === 0 && /^\d+\s*$/.test(r.stdout)) return ok(subject, `exists (uid ${r.stdout.trim()}); tcpdump drops its privileges to it with -Z`);
  if (r.error !== null) return skip(subject, `id could not be run: ${r.error}`);
  return problem(subject, `no such user (${firstLine(r.stderr) || 'id -u failed'})`, "create it, or pass -u with an unprivileged user that exists (or -u '' for no -Z)");
}
