// The shipped jail's pf action as fail2ban itself renders it, for fail2ban
// 1.0 (the stock action.d/pf.conf installed here, Debian's) and 1.1 (FreeBSD
// ports; test/fail2ban/action.d-1.1/pf.conf): the real fail2ban-client -d
// renders actionstart/actionban/actionunban, /bin/sh runs them with a
// stand-in pfctl on PATH (Linux has none) that records what it is given, and
// the rule text pf would load must block every protocol of both families.
//
//   npm run build && node --test dist/test/integration/fail2ban-pf-action.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, unavailable } from '../support/unavailable.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FILTER = join(ROOT, 'etc/fail2ban/filter.d/pfasciilogd.conf');
const JAIL = join(ROOT, 'etc/fail2ban/jail.d/pfasciilogd.conf');
const PF_1_1 = join(ROOT, 'test/fail2ban/action.d-1.1/pf.conf');

/** fail2ban-client -d prints Python literals; this turns the jail's action into JSON. */
const DUMP_TO_JSON = `
import ast, json, sys
for line in sys.stdin:
    row = ast.literal_eval(line)
    if row[:4] == ['multi-set', 'pf', 'action', 'pf']:
        print(json.dumps(dict(row[4])))
`;

/** Records each call: its argv on one line, then what it read on stdin for "-f-". */
const FAKE_PFCTL = `#!/bin/sh
printf 'pfctl %s\\n' "$*" >> "$PFCTL_LOG"
case " $* " in *" -f- "*) cat >> "$PFCTL_LOG" ;; esac
exit 0
`;

function run(cmd: string, args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, input: o.input ?? '', env: o.env ?? process.env });
  if (r.error) throw r.error;
  return r;
}

/**
 * pf.conf(5): a "#" starts a comment that runs to the end of the line, so a
 * rule is the text before it. The one rule that blocks every protocol of
 * both address families from a table: no "proto", no "inet"/"inet6", no
 * port. (A "proto { ... }" list cannot name every protocol; "all" stands for
 * "from any to any" and cannot be followed by "from".)
 */
function pfRule(text: string): string {
  const hash = text.indexOf('#');
  return (hash < 0 ? text : text.slice(0, hash)).trim().replace(/\s+/g, ' ');
}

test("the jail's pf action, rendered by fail2ban 1.0 and 1.1, bans every protocol", async (t) => {
  const client = findTool('fail2ban-client');
  const python = findTool('python3');
  const sh = findTool('sh');
  const stock = ['/etc/fail2ban', '/usr/local/etc/fail2ban'].find((d) => existsSync(join(d, 'jail.conf')) && existsSync(join(d, 'action.d/pf.conf')));
  if (!client || !python || !sh || !stock) {
    unavailable(t, !client ? 'fail2ban-client not found' : !python ? 'python3 not found' : !sh ? 'sh not found' : 'no stock fail2ban configuration with action.d/pf.conf');
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'pfasciilogd-pfaction-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const bin = join(tmp, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'pfctl'), FAKE_PFCTL);
  chmodSync(join(bin, 'pfctl'), 0o755);

  for (const [version, action] of [['1.0', join(stock, 'action.d/pf.conf')], ['1.1', PF_1_1]] as const) {
    await t.test(`fail2ban ${version} action.d/pf.conf`, () => {
      // the stock configuration, this version's pf action, and only our jail
      const cfg = join(tmp, `etc-fail2ban-${version}`);
      cpSync(stock, cfg, { recursive: true });
      rmSync(join(cfg, 'jail.local'), { force: true });
      rmSync(join(cfg, 'action.d/pf.local'), { force: true });
      for (const f of readdirSync(join(cfg, 'jail.d'))) rmSync(join(cfg, 'jail.d', f), { recursive: true, force: true });
      cpSync(action, join(cfg, 'action.d/pf.conf'));
      cpSync(FILTER, join(cfg, 'filter.d/pfasciilogd.conf'));
      cpSync(JAIL, join(cfg, 'jail.d/pfasciilogd.conf'));
      const dump = run(client, ['-c', cfg, '-d']);
      assert.equal(dump.status, 0, `${dump.stderr}\n${dump.stdout}`);
      const conv = run(python, ['-c', DUMP_TO_JSON], { input: dump.stdout });
      assert.equal(conv.status, 0, conv.stderr);
      const rows = conv.stdout.split('\n').filter((l) => l !== '');
      assert.equal(rows.length, 1, `one pf action in the jail:\n${dump.stdout}`);
      const a = JSON.parse(rows[0]!) as Record<string, unknown>;

      // run the rendered commands as fail2ban would, with the tags it fills in at ban time
      const log = join(tmp, `pfctl-${version}.log`);
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, PFCTL_LOG: log };
      const exec = (name: string, tags: Record<string, string>) => {
        let cmd = a[name];
        assert.equal(typeof cmd, 'string', `${name} rendered`);
        for (const [k, v] of Object.entries(tags)) cmd = (cmd as string).split(`<${k}>`).join(v);
        writeFileSync(log, '');
        const r = run(sh, ['-c', cmd as string], { env });
        assert.equal(r.status, 0, `${name}: ${r.stderr}`);
        return readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
      };

      const start = exec('actionstart', { port: '0:65535' });
      assert.equal(start.length, 4, `two pfctl -f- calls:\n${start.join('\n')}`);
      assert.equal(start[0], 'pfctl -a f2b/pf -f-');
      assert.equal(start[1], 'table <f2b-pf> persist counters');
      assert.equal(start[2], 'pfctl -a f2b/pf -f-');
      // what pf loads: every protocol, IPv4 and IPv6 (the table holds both)
      assert.equal(pfRule(start[3]!), 'block quick from <f2b-pf> to any', `the rule pf loads: ${start[3]}`);
      assert.doesNotMatch(pfRule(start[3]!), /\bproto\b|\binet6?\b|\bport\b|\ball\b/);
      // the stock action's own "proto tcp" ends up in the comment
      assert.match(start[3]!, /^block quick from <f2b-pf> to any # /);

      for (const ip of ['192.0.2.7', '2001:db8::7']) {
        assert.deepEqual(exec('actionban', { ip }), [`pfctl -a f2b/pf -t f2b-pf -T add ${ip}`]);
        assert.deepEqual(exec('actionunban', { ip }), [`pfctl -a f2b/pf -t f2b-pf -T delete ${ip}`]);
      }
      // stop finds the rule by the table's name and removes it
      assert.match(String(a['actionstop']), /grep -v f2b-pf \| pfctl -a f2b\/pf -f-/);
      assert.match(String(a['actioncheck']), /pfctl -a f2b\/pf -sr \| grep -q f2b-pf/);
    });
  }
});
