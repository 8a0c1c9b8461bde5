// `pfasciilogd check`, nftables: NFLOG groups in `nft list ruleset` listings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nftBatching, nftLogGroups, nftLogStatements, nftVerdict } from '../../src/check/nftables.js';

// etc/nftables/pfasciilogd.nft as nft lists it (prefix before group), beside
// an iptables-nft NFLOG rule and fail2ban's own table
const LISTING = `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		tcp dport 22 accept
		fib daddr type { broadcast, multicast } drop
		log prefix "pf-block" group 1 drop
	}
}
table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		counter packets 0 bytes 0 log prefix "pf-block" group 5
	}
}
table inet f2b-table {
	set addr-set-pf {
		type ipv4_addr
		elements = { 203.0.113.77 }
	}
	chain f2b-chain {
		type filter hook input priority filter - 1; policy accept;
		ip saddr @addr-set-pf reject with icmp port-unreachable
	}
}
`;

test('the groups log statements send to, whatever the order of their options', () => {
  assert.deepEqual(nftLogGroups(LISTING), [1, 5]);
  assert.deepEqual(nftLogGroups('\t\tlog group 3 prefix "x" queue-threshold 1 drop\n'), [3]);
  assert.deepEqual(nftLogGroups('\t\tlog prefix "x" group 2 queue-threshold 1\n\t\tlog prefix "y" group 2\n'), [2]);
  assert.deepEqual(nftLogGroups('\t\tlog snaplen 128 group 7\n'), [7]);
});

test('log without group (syslog), log in strings and names: no group', () => {
  assert.deepEqual(nftLogGroups('\t\tlog prefix "plain" level warn\n\t\tlog\n'), []);
  assert.deepEqual(nftLogGroups('\t\tcounter comment "log group 9"\n\t\tlog prefix "x log group 8 " flags all\n'), []);
  assert.deepEqual(nftLogGroups('\t\tjump log\n\tchain log {\n'), []);
});

test('verdicts: the group is logged to, another one, none', () => {
  assert.equal(nftVerdict([1, 5], [1]).status, 'ok');
  const other = nftVerdict([5], [1]);
  assert.equal(other.status, 'problem');
  assert.match(other.detail, /no rule logs to NFLOG group 1; the ruleset logs to group 5/);
  assert.match(other.fix!, /pass -i nflog:5, or log to group 1/);
  const none = nftVerdict([], [1]);
  assert.equal(none.status, 'problem');
  assert.match(none.fix!, /log group 1 prefix "pf-block" queue-threshold 1 drop/);
  assert.match(none.fix!, /iptables-legacy/);
});

test('queue-threshold: read from each statement, absent is undefined', () => {
  assert.deepEqual(nftLogStatements('\t\tlog prefix "pf-block" group 1 queue-threshold 1 drop\n\t\tcounter packets 0 bytes 0 log group 2\n\t\tlog prefix "y" group 3 snaplen 100 queue-threshold 5\n\t\tlog prefix "z"\n'), [
    { group: 1, threshold: 1 },
    { group: 2, threshold: undefined },
    { group: 3, threshold: 5 },
  ]);
  // a threshold in a prefix is text
  assert.deepEqual(nftLogStatements('\t\tlog prefix "queue-threshold 1" group 4\n'), [{ group: 4, threshold: undefined }]);
});

test('batching: a log statement of our group without queue-threshold 1 is a problem; other groups do not count', () => {
  assert.equal(nftBatching([{ group: 1, threshold: 1 }], [1]), null);
  assert.equal(nftBatching([{ group: 1, threshold: 1 }, { group: 2, threshold: undefined }], [1]), null);
  const absent = nftBatching([{ group: 1, threshold: undefined }], [1])!;
  assert.equal(absent.status, 'problem');
  assert.match(absent.detail, /a rule logs to NFLOG group 1 with no queue-threshold \(the kernel then holds up to 100 packets, or 1 s\)/);
  assert.match(absent.fix!, /queue-threshold 1/);
  assert.match(absent.fix!, /--nflog-threshold 1/);
  assert.match(nftBatching([{ group: 1, threshold: 1 }, { group: 1, threshold: 0 }], [1])!.detail, /no queue-threshold/);
  const five = nftBatching([{ group: 1, threshold: 5 }, { group: 1, threshold: 5 }], [1])!;
  assert.match(five.detail, /^2 rules log to NFLOG group 1 with queue-threshold 5 /);
});
