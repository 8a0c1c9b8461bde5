// `pfasciilogd check`, the capture interface: NFLOG device names as libpcap
// reads them, the Linux verdict over /sys/class/net, the BSD one over ifconfig.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundNflogGroups, bsdInterfaceVerdict, linuxInterfaceVerdict, parseNflogDevice } from '../../src/check/interface.js';

test('NFLOG device names: nflog is group 0, nflog:N, nflog:N,M; 0..65535', () => {
  assert.deepEqual(parseNflogDevice('nflog'), [0]);
  assert.deepEqual(parseNflogDevice('nflog:1'), [1]);
  assert.deepEqual(parseNflogDevice('nflog:0'), [0]);
  assert.deepEqual(parseNflogDevice('nflog:65535'), [65535]);
  assert.deepEqual(parseNflogDevice('nflog:1,2'), [1, 2]);
  for (const bad of ['nflog:', 'nflog:65536', 'nflog:-1', 'nflog:a', 'nflog:1,', 'nflog:1 ', `nflog:${Array(33).fill(1).join(',')}`]) {
    assert.equal(parseNflogDevice(bad), null, bad);
  }
  for (const other of ['pflog0', 'eth0', 'nflogx', 'nfqueue:1', 'any']) assert.equal(parseNflogDevice(other), undefined, other);
});

const HOST = { interfaces: ['lo', 'eth0', 'ifb0'], nfnetlinkLog: '' };

test('Linux: an existing interface, any, a missing one, pflog0', () => {
  assert.equal(linuxInterfaceVerdict('eth0', HOST).status, 'ok');
  assert.equal(linuxInterfaceVerdict('any', HOST).status, 'ok');
  const missing = linuxInterfaceVerdict('eth9', HOST);
  assert.equal(missing.status, 'problem');
  assert.match(missing.detail, /not found \(this host has eth0, ifb0, lo\)/);
  assert.match(missing.fix!, /pass -i with one of them, or -i nflog:N/);
  const pflog = linuxInterfaceVerdict('pflog0', HOST);
  assert.equal(pflog.status, 'problem');
  assert.match(pflog.detail, /Linux does not have/);
  assert.match(pflog.fix!, /^pass -i nflog:N/);
  for (const bad of ['../etc', 'a b', 'sixteen-chars-xx']) assert.equal(linuxInterfaceVerdict(bad, HOST).status, 'problem', bad);
  assert.equal(linuxInterfaceVerdict('eth0', { interfaces: null, nfnetlinkLog: null }).status, 'skip');
});

test('Linux: NFLOG groups, with or without nfnetlink_log loaded, bound or not', () => {
  const notLoaded = linuxInterfaceVerdict('nflog:1', { interfaces: [], nfnetlinkLog: null });
  assert.equal(notLoaded.status, 'ok');
  assert.match(notLoaded.detail, /NFLOG group 1 \(nfnetlink_log is not loaded yet/);
  assert.match(linuxInterfaceVerdict('nflog:1', HOST).detail, /NFLOG group 1 \(nfnetlink_log loaded\)/);
  // the kernel's format: group, portid, queue length, copy mode, copy range, flush timeout, refcount
  const proc = '    1  12345     0 2 65535   100  1\n  100      7     0 2 65535   100  1\n';
  assert.deepEqual([...boundNflogGroups(proc)], [1, 100]);
  const bound = linuxInterfaceVerdict('nflog:1', { interfaces: [], nfnetlinkLog: proc });
  assert.equal(bound.status, 'ok');
  assert.match(bound.detail, /group 1 is bound now/);
  const bad = linuxInterfaceVerdict('nflog:70000', HOST);
  assert.equal(bad.status, 'problem');
  assert.match(bad.fix!, /pass -i nflog:N/);
});

test('BSD: ifconfig answers', () => {
  assert.equal(bsdInterfaceVerdict('pflog0', { code: 0, stderr: '', error: null }).status, 'ok');
  const gone = bsdInterfaceVerdict('pflog0', { code: 1, stderr: 'ifconfig: interface pflog0 does not exist\n', error: null });
  assert.equal(gone.status, 'problem');
  assert.match(gone.detail, /not found \(ifconfig: interface pflog0 does not exist\)/);
  assert.match(gone.fix!, /ifconfig pflog0 create/);
  const em = bsdInterfaceVerdict('em7', { code: 1, stderr: 'ifconfig: interface em7 does not exist\n', error: null });
  assert.match(em.fix!, /pass -i with an existing interface/);
  assert.equal(bsdInterfaceVerdict('pflog0', { code: null, stderr: '', error: 'EACCES' }).status, 'skip');
});

test('Linux: NFLOG group when nfnetlink_log cannot be read (not root)', () => {
  assert.deepEqual(linuxInterfaceVerdict('nflog:2', { interfaces: [], nfnetlinkLog: undefined }), { status: 'ok', subject: 'interface nflog:2', detail: 'NFLOG group 2' });
});
