import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAEMON_DEFAULTS, daemonOutputs, editDistance, nearestSubcommand, parseDaemonArgs, UsageError, type DaemonOptions } from '../../src/cli/options.js';
import { DAEMON_FLAGS, DAEMON_USAGE } from '../../src/cli/usage.js';
import { captureArgv, textRelayArgv } from '../../src/capture/tcpdump-command.js';

function opts(argv: string[]): DaemonOptions {
  const cmd = parseDaemonArgs(argv);
  assert.equal(cmd.kind, 'daemon', `expected daemon options for ${JSON.stringify(argv)}`);
  return (cmd as { kind: 'daemon'; options: DaemonOptions }).options;
}

function usageError(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => parseDaemonArgs(argv),
    (err: unknown) => {
      assert.ok(err instanceof UsageError, `expected a UsageError for ${JSON.stringify(argv)}, got ${String(err)}`);
      assert.match(err.message, pattern);
      // main.ts prints the message as one line: nothing the user typed may break it.
      assert.doesNotMatch(err.message, /[\0-\x1f\x7f-\uffff]/, 'message must be one line of printable ASCII');
      return true;
    },
  );
}

/** The options this file is about (the decoder flags are checked on their own). */
function core(o: DaemonOptions) {
  const { interface: iface, logFile, pidFile, user, snaplen, tcpdump, readFile, expression } = o;
  return { interface: iface, logFile, pidFile, user, snaplen, tcpdump, readFile, expression };
}

test('defaults', () => {
  const o = opts([]);
  assert.deepEqual(core(o), {
    interface: 'pflog0',
    logFile: '/var/log/pf.log',
    pidFile: '/var/run/pfasciilogd.pid',
    user: 'nobody',
    snaplen: undefined,
    tcpdump: 'tcpdump',
    readFile: undefined,
    expression: [],
  });
  assert.deepEqual({ ...o }, { ...DAEMON_DEFAULTS, expression: [] });
  // the defaults object is not shared with the result
  opts([]).expression.push('x');
  assert.equal(DAEMON_DEFAULTS.expression.length, 0);
});

test('every flag, separate value', () => {
  const o = opts(['-i', 'em0', '-f', '/tmp/pf.log', '-p', '/tmp/p.pid', '-u', '_pflogd', '-s', '160', '--tcpdump', '/usr/sbin/tcpdump', '-r', '/tmp/x.pcap']);
  assert.deepEqual(core(o), {
    interface: 'em0',
    logFile: '/tmp/pf.log',
    pidFile: '/tmp/p.pid',
    user: '_pflogd',
    snaplen: 160,
    tcpdump: '/usr/sbin/tcpdump',
    readFile: '/tmp/x.pcap',
    expression: [],
  });
});

test('--decoder and --format', () => {
  assert.equal(opts(['--decoder', 'tcpdump']).decoder, 'tcpdump');
  assert.equal(opts(['--decoder=native']).decoder, 'native');
  assert.equal(opts(['--format', 'json']).format, 'json');
  assert.equal(opts(['--format=text']).format, 'text');
  usageError(['--decoder', 'wireshark'], /^--decoder: expected native or tcpdump, not 'wireshark'$/);
  assert.equal(opts(['--format', 'filterlog']).format, 'filterlog');
  usageError(['--format=xml\r'], /^--format: expected text or json or filterlog, not 'xml\^M'$/);
  usageError(['--decoder', 'tcpdump', '--format', 'json'], /--format json needs --decoder native/);
  usageError(['--decoder', 'tcpdump', '--format', 'filterlog'], /--format filterlog needs --decoder native/);
});

test('getopt style attached values and --long=value', () => {
  const o = opts(['-ipflog1', '-f/tmp/a.log', '-p/tmp/a.pid', '-u_tcpdump', '-s96', '--tcpdump=/opt/bin/tcpdump', '-r/tmp/c.pcap']);
  assert.equal(o.interface, 'pflog1');
  assert.equal(o.logFile, '/tmp/a.log');
  assert.equal(o.pidFile, '/tmp/a.pid');
  assert.equal(o.user, '_tcpdump');
  assert.equal(o.snaplen, 96);
  assert.equal(o.tcpdump, '/opt/bin/tcpdump');
  assert.equal(o.readFile, '/tmp/c.pcap');
  // '=' inside an attached short value is part of the value
  assert.equal(opts(['-fa=b']).logFile, 'a=b');
  assert.equal(opts(['--tcpdump=/x=y']).tcpdump, '/x=y');
  // a value may itself look like a flag when it is separate (getopt does the same)
  assert.equal(opts(['-i', '-x']).interface, '-x');
});

test('later flags override earlier ones', () => {
  assert.equal(opts(['-i', 'a', '-i', 'b']).interface, 'b');
});

test("-u '' is allowed and omits -Z; other empty values are errors", () => {
  const o = opts(['-u', '']);
  assert.equal(o.user, '');
  assert.ok(!textRelayArgv(o).includes('-Z'));
  assert.deepEqual(textRelayArgv(opts([])).slice(0, 2), ['-Z', 'nobody']);
  for (const flag of ['-i', '-f', '-p', '-r', '--tcpdump']) usageError([flag, ''], /must not be empty/);
  usageError(['--tcpdump='], /must not be empty/);
});

test('expression: the words after --, kept as separate argv words', () => {
  const o = opts(['-i', 'pflog0', '--', 'inbound', 'and', 'action', 'block']);
  assert.deepEqual(o.expression, ['inbound', 'and', 'action', 'block']);
  // a single quoted word stays one word; shell syntax is just text
  assert.deepEqual(opts(['--', 'port 22 and $(reboot)']).expression, ['port 22 and $(reboot)']);
  // after '--', dashes belong to the expression
  assert.deepEqual(opts(['--', 'host', '1.2.3.4', '-i', 'em0']).expression, ['host', '1.2.3.4', '-i', 'em0']);
  assert.equal(opts(['--', 'host', '1.2.3.4', '-i', 'em0']).interface, 'pflog0');
  assert.deepEqual(opts(['-u', '', '--', '-i', 'x']).expression, ['-i', 'x']);
  assert.deepEqual(opts(['--']).expression, []);
  assert.deepEqual(opts(['--', '-']).expression, ['-']);
  // empty words are dropped, not passed to tcpdump as '' (nor taken for an operand)
  assert.deepEqual(opts(['--', 'tcp', '', 'port', '22']).expression, ['tcp', 'port', '22']);
  assert.deepEqual(opts(['', '-i', 'em0']).interface, 'em0');
});

test('an operand before -- is a usage error, with a hint for a mistyped subcommand', () => {
  // what `pfasciilogd stat demo.pcap` used to start: a root daemon filtering on "stat demo.pcap"
  usageError(['stat', 'demo.pcap'], /^unexpected operand 'stat': did you mean 'stats'\?$/);
  usageError(['raed', 'x.pcap'], /did you mean 'read'\?$/);
  usageError(['chekc'], /did you mean 'check'\?$/);
  usageError(['Stats'], /did you mean 'stats'\?$/);
  // options after the operand are not swallowed into an expression
  usageError(['stat', 'x', '-f', '/tmp/x.log'], /^unexpected operand 'stat'/);
  // a subcommand must come first
  usageError(['-i', 'em0', 'stats'], /^unexpected operand 'stats': did you mean 'stats'\? \(a subcommand comes first\)$/);
  // an expression without --: no far-fetched hint, but where it goes
  for (const w of ['inbound', 'tcp', 'host', 'port', 'udp', 'not', 'src', 'dst', 'ip6', 'net', '-']) {
    usageError([w, 'x'], new RegExp(`^unexpected operand '${w}': a filter expression goes after '--'`));
  }
  // what the user typed is escaped: still one printable line
  usageError(['st\nat'], /^unexpected operand 'st\^Jat'/);
});

test('nearestSubcommand: small edit distances only', () => {
  assert.equal(nearestSubcommand('stat'), 'stats');
  assert.equal(nearestSubcommand('sats'), 'stats');
  assert.equal(nearestSubcommand('rad'), 'read');
  assert.equal(nearestSubcommand('chcek'), 'check');
  assert.equal(nearestSubcommand('tcp'), null);
  assert.equal(nearestSubcommand('inbound'), null);
  assert.equal(nearestSubcommand('re'), null, 'two letters are not enough to guess from');
  assert.equal(editDistance('stat', 'stats'), 1);
  assert.equal(editDistance('raed', 'read'), 1);
  assert.equal(editDistance('', 'abc'), 3);
});

test('tcpdump argv: flags map to tcpdump flags, expression words last, after --', () => {
  assert.deepEqual(textRelayArgv(opts([]), 'linux'), ['-Z', 'nobody', '--immediate-mode', '-t', '-l', '-e', '-n', '-i', 'pflog0', '-s', '512']);
  assert.deepEqual(textRelayArgv(opts(['-u', '', '-s', '128', '-ipflog1', '--', 'inbound', 'and', 'action', 'block']), 'linux'), [
    '--immediate-mode', '-t', '-l', '-e', '-n', '-i', 'pflog1', '-s', '128', '--', 'inbound', 'and', 'action', 'block',
  ]);
  // "--" keeps an expression word that looks like a flag from being one to tcpdump
  assert.deepEqual(textRelayArgv(opts(['--', 'host', 'x', '-w', '/f'])).slice(-5), ['--', 'host', 'x', '-w', '/f']);
  // -r replaces -i, and a file gets no default snaplen (it was cut when written)
  assert.deepEqual(textRelayArgv(opts(['-u', 'x', '-r', '/f.pcap', '-i', 'em0'])), ['-Z', 'x', '-t', '-l', '-e', '-n', '-r', '/f.pcap']);
  // -s 0 is a value, not "unset"
  assert.deepEqual(textRelayArgv(opts(['-s', '0'])).slice(-2), ['-s', '0']);
  // the native decoder's capture command follows the same rules
  const cap = captureArgv(opts(['-u', '', '-s', '96', '--', 'inbound', 'and', 'action', 'block']));
  assert.ok(!cap.includes('-Z'));
  assert.deepEqual(cap.slice(-7), ['-s', '96', '--', 'inbound', 'and', 'action', 'block']);
  assert.deepEqual(captureArgv(opts([])).slice(0, 2), ['-Z', 'nobody']);
});

test('-h/--help and -V/--version', () => {
  assert.deepEqual(parseDaemonArgs(['-h']), { kind: 'help' });
  assert.deepEqual(parseDaemonArgs(['--help']), { kind: 'help' });
  assert.deepEqual(parseDaemonArgs(['-V']), { kind: 'version' });
  assert.deepEqual(parseDaemonArgs(['--version']), { kind: 'version' });
  assert.deepEqual(parseDaemonArgs(['-i', 'em0', '-h']), { kind: 'help' });
  // the synopsis advertises [-hV]: clustered, getopt style, the first one wins
  assert.deepEqual(parseDaemonArgs(['-hV']), { kind: 'help' });
  assert.deepEqual(parseDaemonArgs(['-Vh']), { kind: 'version' });
  // after --, -h is an expression word
  assert.equal(parseDaemonArgs(['--', 'tcp', '-h']).kind, 'daemon');
  // -h as the value of a flag is a value
  assert.equal(opts(['-i', '-h']).interface, '-h');
});

test('snaplen range and syntax', () => {
  assert.equal(opts(['-s', '0']).snaplen, 0);
  assert.equal(opts(['-s', '262144']).snaplen, 262144);
  for (const bad of ['262145', '-1', 'abc', '1e3', '0x10', '12 ', ' 12', '1.5', '99999999']) {
    usageError(['-s', bad], /snaplen must be an integer/);
  }
});

test('errors: unknown flags, missing values, NUL and newline', () => {
  usageError(['-x'], /^unknown option -x$/);
  usageError(['--bogus'], /^unknown option --bogus$/);
  usageError(['--bogus=1'], /^unknown option --bogus$/);
  usageError(['-xyz'], /^unknown option -x$/);
  usageError(['--help=1'], /unknown option --help/);
  for (const flag of ['-i', '-f', '-p', '-u', '-s', '-r', '--tcpdump']) usageError([flag], new RegExp(`^${flag} needs a value$`));
  usageError(['-i', 'em\n0'], /NUL or newline/);
  usageError(['-f', 'a\0b'], /NUL or newline/);
  usageError(['-ia\nb'], /NUL or newline/);
  usageError(['--', 'tcp', 'port\n22'], /expression contains a NUL or newline/);
  usageError(['--', 'tcp', 'a\0'], /expression contains a NUL or newline/);
  // what the user typed is shown escaped, so the message stays one printable line
  usageError(['--evil\nline2'], /^unknown option --evil\^Jline2$/);
  usageError(['-\n'], /^unknown option -\^J$/);
  usageError(['--\u00e9'], /^unknown option --M-CM-\)$/);
  usageError(['-s', '1\r'], /not '1\^M'/);
});

test('usage text lists every flag', () => {
  for (const flag of DAEMON_FLAGS) assert.ok(DAEMON_USAGE.includes(flag), `${flag} missing from usage`);
  assert.match(DAEMON_USAGE, /^usage: pfasciilogd /);
});

test('an NFLOG interface with a filter expression is refused at start (libpcap cannot filter NFLOG)', () => {
  assert.throws(() => parseDaemonArgs(['-i', 'nflog:1', '--', 'tcp']), (e: unknown) => e instanceof UsageError && /nflog:1/.test(e.message));
  assert.equal(parseDaemonArgs(['-i', 'nflog:1']).kind, 'daemon');
  assert.equal(parseDaemonArgs(['-r', 'x.pcap', '-i', 'nflog:1', '--', 'tcp']).kind, 'daemon', 'a capture file is filtered by tcpdump as usual');
});

test('--stats-interval: seconds, 0 for only at exit, bad values refused', () => {
  const o = (argv: string[]) => {
    const r = parseDaemonArgs(argv);
    assert.equal(r.kind, 'daemon');
    return (r as { options: DaemonOptions }).options;
  };
  assert.equal(o([]).statsInterval, 3600);
  assert.equal(o(['--stats-interval', '60']).statsInterval, 60);
  assert.equal(o(['--stats-interval=0']).statsInterval, 0);
  for (const bad of ['-1', '1.5', 'x', '99999999']) assert.throws(() => parseDaemonArgs(['--stats-interval', bad]), UsageError);
});

test('--dedupe and --dedupe-max: off by default, bounded, native decoder only', () => {
  assert.deepEqual([opts([]).dedupe, opts([]).dedupeMax], [0, 100000]);
  const o = opts(['--dedupe', '600', '--dedupe-max=5000']);
  assert.deepEqual([o.dedupe, o.dedupeMax], [600, 5000]);
  usageError(['--dedupe', 'x'], /^--dedupe: seconds from 0 to 604800, not 'x'$/);
  usageError(['--dedupe', '-1'], /^--dedupe: seconds/);
  usageError(['--dedupe', '600', '--dedupe-max', '0'], /^--dedupe-max: a number of entries from 1 to 10000000, not '0'$/);
  usageError(['--dedupe', '600', '--dedupe-max', '10000001'], /^--dedupe-max: /);
  usageError(['--dedupe-max', '5'], /^--dedupe-max has no effect without --dedupe SECONDS$/);
  usageError(['--decoder', 'tcpdump', '--dedupe', '60'], /^--dedupe needs --decoder native$/);
  assert.equal(opts(['--decoder', 'tcpdump', '--dedupe', '0']).dedupe, 0);
});

test('-o FORMAT:PATH: repeatable, split at the first colon, -f and --format stay the first output', () => {
  assert.deepEqual(opts([]).outputs, []);
  const o = opts(['-f', '/var/log/pf.log', '-o', 'filterlog:/var/log/filter.log', '-o', 'json:/var/log/pf.json', '--format', 'text']);
  assert.equal(o.logFile, '/var/log/pf.log');
  assert.equal(o.format, 'text');
  assert.deepEqual(o.outputs, [
    { format: 'filterlog', path: '/var/log/filter.log' },
    { format: 'json', path: '/var/log/pf.json' },
  ]);
  assert.deepEqual(daemonOutputs(o).map((x) => `${x.format}:${x.path}`), ['text:/var/log/pf.log', 'filterlog:/var/log/filter.log', 'json:/var/log/pf.json']);
  // a path may hold ':' (and the attached getopt form works)
  assert.deepEqual(opts(['-ojson:/tmp/a:b:c']).outputs, [{ format: 'json', path: '/tmp/a:b:c' }]);
  // two outputs of one format are allowed; text outputs work with the text relay
  assert.equal(opts(['-o', 'text:/tmp/a', '-o', 'text:/tmp/b']).outputs.length, 2);
  assert.equal(opts(['--decoder', 'tcpdump', '-o', 'text:/tmp/a']).outputs.length, 1);
  // the defaults are not shared with the result
  opts(['-o', 'json:/tmp/x']);
  assert.deepEqual(DAEMON_DEFAULTS.outputs, []);
});

test('-o bad input: unknown format, no colon, empty path, the same file twice, a non-text format with --decoder tcpdump', () => {
  usageError(['-o', 'xml:/tmp/x'], /^-o xml:\/tmp\/x: format must be text, json or filterlog, not 'xml'$/);
  usageError(['-o', 'JSON:/tmp/x'], /not 'JSON'/);
  usageError(['-o', ':/tmp/x'], /not ''/);
  usageError(['-o', '/tmp/x'], /^-o: expected format:path/);
  usageError(['-o', 'json:'], /^-o json:: the path is empty$/);
  usageError(['-o', ''], /^-o: value must not be empty$/);
  usageError(['-o'], /^-o needs a value$/);
  usageError(['-o', 'json:/tmp/x\n'], /NUL or newline/);
  usageError(['-o', 'x\x1b:/tmp/x'], /not 'x\^\['$/);
  // the same path twice, after resolving it, including -f's (default or given)
  usageError(['-o', 'json:/var/log/pf.log'], /^-o json:\/var\/log\/pf\.log: the same file as -f \/var\/log\/pf\.log; give each output its own path$/);
  usageError(['-f', '/tmp/a', '-o', 'json:/tmp/./b/../a'], /the same file as -f \/tmp\/a/);
  usageError(['-o', 'json:/tmp/a', '-f', '/tmp/x', '-o', 'filterlog:/tmp//a'], /^-o filterlog:\/tmp\/\/a: the same file as -o json:\/tmp\/a;/);
  usageError(['-f', 'rel.log', '-o', `text:${process.cwd()}/rel.log`], /the same file as -f rel\.log/);
  usageError(['--decoder', 'tcpdump', '-o', 'filterlog:/tmp/f'], /^-o filterlog:\/tmp\/f needs --decoder native \(tcpdump prints text\)$/);
  usageError(['-o', 'json:/tmp/f', '--decoder', 'tcpdump'], /needs --decoder native/);
});
