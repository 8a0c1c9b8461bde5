// NFLOG as the Linux kernel really writes it: a namespace pair joined by
// veth, nftables logging to an NFLOG group (inbound drops with the hardware
// header, and locally sent packets, which carry only an output interface),
// captured by the real tcpdump -i nflog:N, decoded by `pfasciilogd read`.
// Needs root (namespaces, nftables); outside CI it skips without.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unavailable } from '../support/unavailable.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = join(ROOT, 'dist/bin/pfasciilogd.js');
const TAG = `pfnl${process.pid % 100000}`;
const A = `${TAG}a`;
const B = `${TAG}b`;
const GROUP = 11;

function sh(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', input, timeout: 20000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

function must(args: string[], input?: string): string {
  const r = sh(args, input);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}


test('real kernel NFLOG captures decode to one line per packet with group, prefix and interfaces', async (t) => {
  if (process.getuid?.() !== 0) return unavailable(t, 'needs root for network namespaces and nftables');
  for (const tool of ['ip', 'nft', 'tcpdump']) if (sh(['sh', '-c', `command -v ${tool}`]).status !== 0) return unavailable(t, `${tool} not found`);
  const tmp = mkdtempSync(join(tmpdir(), 'pfasciilogd-nflog-'));
  chmodSync(tmp, 0o755); // tcpdump may write as another user
  t.after(() => {
    sh(['ip', 'netns', 'del', A]);
    sh(['ip', 'netns', 'del', B]);
    rmSync(tmp, { recursive: true, force: true });
  });
  must(['ip', 'netns', 'add', A]);
  must(['ip', 'netns', 'add', B]);
  must(['ip', 'link', 'add', `${TAG}x`, 'netns', A, 'type', 'veth', 'peer', 'name', `${TAG}y`, 'netns', B]);
  must(['ip', '-n', A, 'addr', 'add', '10.201.0.1/24', 'dev', `${TAG}x`]);
  must(['ip', '-n', B, 'addr', 'add', '10.201.0.2/24', 'dev', `${TAG}y`]);
  for (const [ns, dev] of [[A, `${TAG}x`], [B, `${TAG}y`]] as const) {
    must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  must(['ip', 'netns', 'exec', B, 'nft', '-f', '-'], `table inet pfasciilogd_test {
  chain input { type filter hook input priority 0; policy accept;
    iif lo accept
    tcp dport 9000-9099 log group ${GROUP} prefix "in-drop" drop
  }
  chain output { type filter hook output priority 0; policy accept;
    udp dport 9999 log group ${GROUP} prefix "out-udp" accept
  }
}
`);
  const ifindex = Number(must(['ip', 'netns', 'exec', B, 'cat', `/sys/class/net/${TAG}y/ifindex`]).trim());
  const pcap = join(tmp, 'nflog.pcap');
  const cap = spawn('ip', ['netns', 'exec', B, 'tcpdump', '-U', '-c', '4', '-w', pcap, '-i', `nflog:${GROUP}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let capErr = '';
  cap.stderr.setEncoding('utf8').on('data', (s: string) => (capErr += s));
  const capDone = new Promise<void>((res) => cap.on('exit', () => res()));
  t.after(() => cap.kill('SIGKILL'));
  for (let i = 0; i < 100 && !capErr.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
  // two inbound SYNs to dropped ports, two local UDP datagrams out
  const probe = `const net=require('net');for(const p of [9001,9002]){const s=net.connect({host:'10.201.0.2',port:p});s.on('error',()=>{});setTimeout(()=>s.destroy(),300);}`;
  must(['ip', 'netns', 'exec', A, process.execPath, '-e', probe]);
  const send = `const d=require('dgram').createSocket('udp4');d.send('hi',9999,'10.201.0.1',()=>d.send('ho',9999,'10.201.0.1',()=>d.close()));`;
  must(['ip', 'netns', 'exec', B, process.execPath, '-e', send]);
  await Promise.race([capDone, new Promise((r) => setTimeout(r, 5000))]);
  assert.ok(existsSync(pcap), `tcpdump wrote no capture: ${capErr}`);

  const rd = sh([process.execPath, MAIN, 'read', pcap]);
  assert.equal(rd.status, 0, rd.stderr);
  const lines = rd.stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/^\S+ /, ''));
  assert.equal(lines.length, 4, rd.stdout);
  const inbound = lines.filter((l) => l.startsWith(`nflog ${GROUP} "in-drop" in on if${ifindex}: 10.201.0.1.`));
  assert.equal(inbound.length, 2, lines.join('\n'));
  for (const l of inbound) assert.match(l, / > 10\.201\.0\.2\.900[12]: Flags \[S\], seq \d+, win \d+, options \[.*\], length 0$/);
  const outbound = lines.filter((l) => l.startsWith(`nflog ${GROUP} "out-udp" out on if${ifindex}: 10.201.0.2.`));
  assert.equal(outbound.length, 2, lines.join('\n'));
  for (const l of outbound) assert.match(l, / > 10\.201\.0\.1\.9999: UDP, length 2$/);

  const js = sh([process.execPath, MAIN, 'read', '--format', 'json', pcap]);
  const objs = js.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const first = objs.find((o) => o.prefix === 'in-drop')!;
  assert.equal(first.group, GROUP);
  assert.equal(first.in_interface, `if${ifindex}`);
  assert.equal(first.src, '10.201.0.1');
  assert.equal(objs.find((o) => o.prefix === 'out-udp')!.out_interface, `if${ifindex}`);

  // tcpdump's own reading of the same file agrees on the packets
  const td = sh(['tcpdump', '-n', '-t', '-r', pcap]);
  assert.equal(td.stdout.split('\n').filter((l) => l.includes('10.201.0.')).length, 4, td.stdout);
  assert.ok(readFileSync(pcap).length > 24);
});
