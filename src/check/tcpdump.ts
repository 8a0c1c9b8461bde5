// tcpdump: found where the daemon will look for it, and answering
// `tcpdump --version`.

import { type CheckResult, ok, problem } from './result.js';
import { findExecutable, firstLine, runTool, SYSTEM_DIRS } from './tools.js';

export interface TcpdumpVersion {
  tcpdump: string;
  libpcap: string | undefined;
}

/**
 * The versions in `tcpdump --version` output (upstream, Debian, FreeBSD:
 * "tcpdump version 4.99.3" then "libpcap version 1.10.3 (with TPACKET_V3)").
 * null when the text names no tcpdump version.
 */
export function parseTcpdumpVersion(text: string): TcpdumpVersion | null {
  const t = /^tcpdump version (\S+)/m.exec(text);
  if (!t) return null;
  const l = /^libpcap version (\S+)/m.exec(text);
  return { tcpdump: t[1]!, libpcap: l ? l[1]! : undefined };
}

export function describeTcpdumpVersion(v: TcpdumpVersion): string {
  return `tcpdump version ${v.tcpdump}${v.libpcap !== undefined ? ` (libpcap ${v.libpcap})` : ''}`;
}

/**
 * Whether this tcpdump version has --immediate-mode (added in 4.6). A build
 * against a libpcap without pcap_set_immediate_mode lacks it too; the daemon
 * notices that when tcpdump refuses the flag, and runs it without.
 */
export function hasImmediateMode(v: TcpdumpVersion): boolean {
  const m = /^(\d+)\.(\d+)/.exec(v.tcpdump);
  if (!m) return true; // a version we cannot read: let the daemon find out
  const major = Number(m[1]);
  return major > 4 || (major === 4 && Number(m[2]) >= 6);
}

export function installHint(platform: NodeJS.Platform): string {
  if (platform === 'linux') return 'install it (Debian: apt-get install tcpdump)';
  if (platform === 'freebsd' || platform === 'openbsd') return 'it is part of the base system: restore it (/usr/sbin/tcpdump)';
  return 'install it';
}

export async function checkTcpdump(tcpdump: string, platform: NodeJS.Platform = process.platform): Promise<CheckResult> {
  const subject = 'tcpdump';
  // as the daemon's spawn() finds it: the path given, or PATH
  const path = findExecutable(tcpdump);
  if (path === undefined) {
    if (tcpdump.includes('/')) return problem(subject, `${tcpdump} is not an executable file`, `${installHint(platform)}, or pass --tcpdump with its path`);
    const elsewhere = SYSTEM_DIRS.map((d) => `${d}/${tcpdump}`).find((p) => findExecutable(p) !== undefined);
    if (elsewhere !== undefined) {
      return problem(subject, `'${tcpdump}' is not on PATH (${process.env.PATH ?? ''}), but ${elsewhere} exists`, `pass --tcpdump ${elsewhere}, or run pfasciilogd with ${elsewhere.slice(0, elsewhere.lastIndexOf('/'))} on PATH`);
    }
    return problem(subject, `'${tcpdump}' not found on PATH`, `${installHint(platform)}, or pass --tcpdump with its path`);
  }
  const r = await runTool(path, ['--version'], 10_000);
  if (r.error !== null) return problem(subject, `${path} could not be run: ${r.error}`, 'check the file, or pass --tcpdump with the path of a working tcpdump');
  const v = parseTcpdumpVersion(`${r.stdout}\n${r.stderr}`);
  if (v !== null && !hasImmediateMode(v)) {
    return problem(
      subject,
      `${path}, ${describeTcpdumpVersion(v)}, has no --immediate-mode: the daemon runs it without, and an isolated blocked packet waits in the capture buffer (up to a second) before it is logged`,
      `install tcpdump 4.6 or later (${installHint(platform)}), or pass --tcpdump with its path`,
    );
  }
  if (v !== null) return ok(subject, `${path}, ${describeTcpdumpVersion(v)}`);
  // OpenBSD's tcpdump has no --version: it answers with its usage
  if (platform === 'openbsd' && /usage: tcpdump/i.test(r.stderr)) {
    return ok(subject, `${path} (OpenBSD's tcpdump, which reports no version; it has no immediate mode: bpf holds an isolated packet up to its 1 s read timeout)`);
  }
  const said = firstLine(r.stderr) || firstLine(r.stdout) || `exit status ${r.code}`;
  return problem(subject, `${path} --version named no tcpdump version (${said})`, 'pass --tcpdump with the path of tcpdump');
}
