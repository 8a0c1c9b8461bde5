// `pfasciilogd check`, pf: the order of anchor "f2b/*" and the first block log
// rule in `pfctl -sr` listings as FreeBSD's and OpenBSD's pfctl print them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analysePfRuleset, pfVerdict } from '../../src/check/pf.js';

// etc/pf.conf.example loaded on FreeBSD (ext_if vtnet0): pfctl spells out the
// return policy, "flags S/SA keep state", and expands the icmp-type list.
const FREEBSD_EXAMPLE = `anchor "f2b/*" all
block drop log all
pass out all flags S/SA keep state
pass in on vtnet0 proto tcp from any to any port = ssh flags S/SA keep state
pass in inet proto icmp all icmp-type echoreq keep state
pass in inet proto icmp all icmp-type unreach keep state
pass inet6 proto ipv6-icmp all keep state
`;

// the same on OpenBSD (egress group, keep state implied)
const OPENBSD_EXAMPLE = `anchor "f2b/*" all
block drop log all
pass out all flags S/SA
pass in on egress proto tcp from any to any port = 22 flags S/SA
pass in inet proto icmp all icmp-type echoreq
pass in inet proto icmp all icmp-type unreach
pass inet6 proto ipv6-icmp all
`;

test('the shipped example, as FreeBSD and OpenBSD print it: anchor first, ok', () => {
  for (const listing of [FREEBSD_EXAMPLE, OPENBSD_EXAMPLE]) {
    const facts = analysePfRuleset(listing);
    assert.equal(facts.rules, 7);
    assert.deepEqual(facts.anchor, { index: 0, text: 'anchor "f2b/*" all' });
    assert.deepEqual(facts.blockLog, { index: 1, text: 'block drop log all' });
    assert.deepEqual(facts.logInterfaces, ['pflog0']);
    const v = pfVerdict(facts, 'pflog0');
    assert.equal(v.status, 'ok');
    assert.match(v.detail, /anchor "f2b\/\*" comes before the first block log rule \(block drop log all\)/);
  }
});

test('anchor after the first block log rule: a problem, with the fix', () => {
  const listing = `scrub in all fragment reassemble
block drop in log on ! lo0 all
pass in quick on lo0 all flags S/SA keep state
anchor "f2b/*" all
pass out all flags S/SA keep state
`;
  const facts = analysePfRuleset(listing);
  assert.equal(facts.anchor?.index, 3);
  assert.equal(facts.blockLog?.text, 'block drop in log on ! lo0 all');
  const v = pfVerdict(facts, 'pflog0');
  assert.equal(v.status, 'problem');
  assert.match(v.detail, /anchor "f2b\/\*" comes after the first block log rule \(block drop in log on ! lo0 all\)/);
  assert.match(v.fix!, /move anchor "f2b\/\*" before your block log rules/);
  assert.match(v.fix!, /etc\/pf\.conf\.example/);
});

test('anchor missing (or only "f2b" without /*, or outbound only): a problem', () => {
  for (const anchor of ['', 'anchor "f2b" all\n', 'anchor "f2b/*" out all\n', 'anchor "blacklistd/*" in on vtnet0 all\n']) {
    const facts = analysePfRuleset(`${anchor}block return log all\npass out all flags S/SA keep state\n`);
    assert.equal(facts.anchor, null, anchor);
    const v = pfVerdict(facts, 'pflog0');
    assert.equal(v.status, 'problem');
    assert.match(v.detail, /no anchor "f2b\/\*"/);
    assert.match(v.fix!, /add anchor "f2b\/\*" before your block log rules/);
  }
});

test('log with an option list, every return policy, quick and on after log', () => {
  const cases: Array<[string, string]> = [
    ['block drop in log (all, to pflog1) on ! lo0 inet from any to any', 'pflog1'],
    ['block drop log (all) all', 'pflog0'],
    ['block drop in log (user) quick on em0 proto tcp from any to any port = 6000', 'pflog0'],
    ['block return in log quick on vtnet0 inet from <bruteforce> to any', 'pflog0'],
    ['block return-rst(ttl 64) in log proto tcp all', 'pflog0'],
    ['block return-icmp(port-unr, port-unr) in log all', 'pflog0'],
    ['block return-icmp6(port-unr) in log inet6 all', 'pflog0'],
    ['block in log (matches, to pflog2) all', 'pflog2'],
  ];
  for (const [rule, logIf] of cases) {
    const facts = analysePfRuleset(`anchor "f2b/*" all\n${rule}\n`);
    assert.equal(facts.blockLog?.text, rule, rule);
    assert.deepEqual(facts.logInterfaces, [logIf], rule);
  }
});

test('not block log rules: no log, log only in a label, pass log, outbound only', () => {
  const listing = `block drop all
block drop in quick proto tcp from any to any port = 23 label "log"
pass in log on em0 proto tcp from any to any port = ssh flags S/SA keep state
block return out log proto tcp all user = 55
match in log all
`;
  const facts = analysePfRuleset(listing);
  assert.equal(facts.blockLog, null);
  const v = pfVerdict({ ...facts, anchor: { index: 0, text: 'anchor "f2b/*" all' } }, 'pflog0');
  assert.equal(v.status, 'problem');
  assert.match(v.detail, /no block rule logs inbound packets/);
  assert.match(v.fix!, /add block log all after anchor "f2b\/\*"/);
});

test('an outbound block log before the anchor does not count (OpenBSD default ruleset)', () => {
  const listing = `block return all
pass all flags S/SA
block return in on ! lo0 proto tcp from any to any port 6000:6010
block return out log proto tcp all user = 55
block return out log proto udp all user = 55
anchor "f2b/*" all
block drop in log all
`;
  const facts = analysePfRuleset(listing);
  assert.equal(facts.anchor?.index, 5);
  assert.equal(facts.blockLog?.index, 6);
  assert.equal(pfVerdict(facts, 'pflog0').status, 'ok');
});

test('pfctl -v listing: rule numbers and counter lines are skipped', () => {
  const listing = `@0 anchor "f2b/*" all
  [ Evaluations: 1234      Packets: 0         Bytes: 0           States: 0     ]
  [ Inserted: uid 0 pid 812 State Creations: 0     ]
@1 block drop log all
  [ Evaluations: 1234      Packets: 99        Bytes: 5940        States: 0     ]
@2 pass out all flags S/SA keep state
`;
  const facts = analysePfRuleset(listing);
  assert.equal(facts.rules, 3);
  assert.equal(facts.anchor?.text, 'anchor "f2b/*" all');
  assert.equal(facts.blockLog?.text, 'block drop log all');
  assert.equal(pfVerdict(facts, 'pflog0').status, 'ok');
});

test('the rules log to another pflog interface than the daemon captures', () => {
  const facts = analysePfRuleset(`anchor "f2b/*" all\nblock drop log (to pflog1) all\n`);
  const v = pfVerdict(facts, 'pflog0');
  assert.equal(v.status, 'problem');
  assert.match(v.detail, /log to pflog1, but pfasciilogd captures pflog0/);
  assert.match(v.fix!, /pass -i pflog1/);
  assert.equal(pfVerdict(facts, 'pflog1').status, 'ok');
});

test('no rules loaded, no block log at all', () => {
  const none = pfVerdict(analysePfRuleset(''), 'pflog0');
  assert.equal(none.status, 'problem');
  assert.match(none.detail, /no ruleset is loaded/);
  const noLog = pfVerdict(analysePfRuleset('pass all flags S/SA keep state\n'), 'pflog0');
  assert.equal(noLog.status, 'problem');
  assert.match(noLog.fix!, /add anchor "f2b\/\*" and after it block log all/);
});
