// A stand-in for tcpdump in the daemon's integration tests, for what the real
// one cannot be made to do on demand: crash, ignore SIGTERM, flood, print odd
// bytes. It is run through a small wrapper script (see daemon-harness.ts)
// that sets FAKE_TCPDUMP_MODE and execs node on this file, so the pid the
// daemon sees is this process. Every start appends its pid to
// FAKE_TCPDUMP_PIDS, so a test can check that no fake is left running.
//
// Modes:
//   argv       print "argv <JSON of argv>", then wait
//   exit       exit at once with FAKE_EXIT_CODE (default 1)
//   sigkill    print a line, then kill itself with SIGKILL
//   trapterm   ignore SIGTERM (saying so on stdout), print "ready", wait
//   lastwords  print lines and unterminated tails; on SIGTERM print more and exit 0
//   numbered   print "seq <n> <padding>" for n = 1..FAKE_COUNT quickly, then "done", wait
//   tick       print "tick <n> <Date.now()>" every FAKE_INTERVAL_MS ms, FAKE_COUNT times, then wait
//   odd        print control characters, UTF-8, binary junk, CRs, then 70000 bytes without a newline, wait
//   hang       print nothing, ignore SIGTERM, wait (only SIGKILL ends it)
//   flood      print "seq <n> <padding>" lines as fast as the pipe takes them; on SIGTERM write
//              the number of lines written whole to FAKE_REPORT and exit 0
//   pcap       copy the file FAKE_PCAP to stdout, then wait
//   noimmediate  a tcpdump without --immediate-mode: given it, print glibc's
//              "unrecognized option" and a usage text on stderr and exit 1,
//              before any output; without it, behave as argv

import { appendFileSync, readFileSync, writeFileSync, writeSync } from 'node:fs';

// `node --test dist/test/` also runs every file under test/ as a test: without
// the wrapper's FAKE_TCPDUMP_MODE this file does nothing and exits.
const mode = process.env.FAKE_TCPDUMP_MODE ?? 'none';
const pidsFile = process.env.FAKE_TCPDUMP_PIDS;
if (pidsFile && mode !== 'none') appendFileSync(pidsFile, `${process.pid}\n`);

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Synchronous, complete writes, in order (process.stdout is never touched, so the pipe stays blocking). */
function writeAll(fd: number, data: string | Buffer): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
const out = (data: string | Buffer) => writeAll(1, data);
const err = (data: string | Buffer) => writeAll(2, data);
function idle(): void {
  setInterval(() => {}, 1 << 30);
}
const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);

switch (mode) {
  case 'none':
    break;

  case 'argv':
    out(`argv ${JSON.stringify(process.argv.slice(2))}\n`);
    idle();
    break;

  case 'noimmediate':
    if (process.argv.includes('--immediate-mode')) {
      err("tcpdump: unrecognized option '--immediate-mode'\n");
      err('tcpdump version 4.5.1\nlibpcap version 1.5.3\nUsage: tcpdump [-aAbdDefhHIJKlLnNOpqRStuUvxX#] [ -B size ] [ -c count ]\n\t\t[ -w file ] [ -W filecount ] [ -y datalinktype ] [ -z command ]\n\t\t[ -Z user ] [ expression ]\n');
      process.exit(1);
    }
    out(`argv ${JSON.stringify(process.argv.slice(2))}\n`);
    idle();
    break;

  case 'exit':
    process.exit(num('FAKE_EXIT_CODE', 1));
    break;

  case 'sigkill':
    out('about to be killed\n');
    process.kill(process.pid, 'SIGKILL');
    break;

  case 'trapterm':
    process.on('SIGTERM', () => out('ignoring SIGTERM\n'));
    out('ready\n');
    idle();
    break;

  case 'lastwords':
    out('line 1\nline 2\n');
    err('err 1\nerr tail');
    out('out tail');
    process.on('SIGTERM', () => {
      out(' continued\nfinal 1\nfinal 2\nunterminated at exit');
      process.exit(0);
    });
    idle();
    break;

  case 'numbered': {
    const count = num('FAKE_COUNT', 10000);
    const perTick = num('FAKE_PER_TICK', 40);
    let n = 0;
    const step = () => {
      let s = '';
      for (let i = 0; i < perTick && n < count; i++) {
        n++;
        // Varying lengths put line ends at every offset of the pipe's chunks.
        s += `seq ${n} ${'x'.repeat((n * 7919) % 61)}\n`;
      }
      out(s);
      if (n < count) setTimeout(step, 1);
      else {
        out('done\n');
        idle();
      }
    };
    step();
    break;
  }

  case 'tick': {
    const count = num('FAKE_COUNT', 10);
    const interval = num('FAKE_INTERVAL_MS', 100);
    let n = 0;
    const step = () => {
      n++;
      out(`tick ${n} ${Date.now()}\n`);
      if (n < count) setTimeout(step, interval);
      else idle();
    };
    setTimeout(step, interval);
    break;
  }

  case 'odd':
    out('ctl \x01\x02\x1b[31mred\x1b[0m end\n');
    out(Buffer.from('utf8 café €\n', 'utf8'));
    out('cr a\rb\r\n');
    out(Buffer.from([...Buffer.from('del \x7f nul ', 'latin1'), 0x00, ...Buffer.from(' ff ', 'latin1'), 0xff, 0x0a]));
    out('vt \x0b ff \x0c\n');
    err('stderr \x1b]0;title\x07\n');
    out('L'.repeat(70000));
    idle();
    break;

  case 'hang':
    process.on('SIGTERM', () => {});
    idle();
    break;

  case 'flood': {
    // Each batch is written whole before the next turn of the event loop, and
    // a signal handler only runs between turns: when it runs, n lines have
    // been written completely and nothing else.
    const report = process.env.FAKE_REPORT ?? '/dev/null';
    let n = 0;
    process.on('SIGTERM', () => {
      writeFileSync(report, `${n}\n`);
      process.exit(0);
    });
    const step = () => {
      let s = '';
      for (let i = 0; i < 200; i++) {
        n++;
        s += `seq ${n} ${'x'.repeat((n * 7919) % 61)}\n`;
      }
      out(s);
      setImmediate(step);
    };
    step();
    break;
  }

  case 'pcap':
    out(readFileSync(process.env.FAKE_PCAP ?? '/dev/null'));
    idle();
    break;

  default:
    err(`fake-tcpdump: unknown mode ${mode}\n`);
    process.exit(2);
}
