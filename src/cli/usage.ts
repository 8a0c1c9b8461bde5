// The help text. The man page documents every flag listed here (a test checks).
export const DAEMON_USAGE = `usage: pfasciilogd [-hV] [-i interface] [-f logfile] [-p pidfile] [-u user]
                   [-o format:path ...]
                   [-s snaplen] [--tcpdump path] [-r capture-file]
                   [--decoder native|tcpdump] [--format text|json|filterlog]
                   [--stats-interval seconds]
                   [--dedupe seconds [--dedupe-max entries]]
                   [-- expression ...]
       pfasciilogd read [-F] [--format text|json|filterlog]
                        [--dedupe seconds [--dedupe-max entries]] file ...
       pfasciilogd check [-i interface] [-f logfile] [-p pidfile] [-u user]
                         [-o format:path ...]
                         [--tcpdump path] [--filter path] [--lines n]
       pfasciilogd stats [--json] [--ascii] [--top n] [--since time]
                         [--until time] [file ...]

Turn the pf log interface into ISO-8601-stamped text lines for fail2ban.

  -i interface     capture interface (default pflog0)
  -f logfile       log file to append to (default /var/log/pf.log)
  -o format:path   another output: the same packets, in format text, json or
                   filterlog, appended to path (repeatable; -f and --format
                   are the first output), e.g. -o filterlog:/var/log/filter.log
  -p pidfile       pid file (default /var/run/pfasciilogd.pid)
  -u user          user tcpdump drops privileges to with -Z (default nobody,
                   none on OpenBSD; '' omits -Z, as OpenBSD's tcpdump drops
                   privileges itself)
  -s snaplen       bytes captured per packet (default 512 for an interface,
                   262144 for nflog:N)
  --tcpdump path   tcpdump binary (default: tcpdump on PATH)
  -r capture-file  read a capture file instead of the interface; exit at its end
  --decoder native decode packets here; tcpdump only captures (default)
  --decoder tcpdump
                   let tcpdump print the lines, as the original tool did
  --format json    one JSON object per packet instead of text (native only)
  --format filterlog
                   pfSense/OPNsense filterlog CSV lines, for CrowdSec, Wazuh,
                   Elastic, Graylog (native only)
  --stats-interval seconds
                   log tcpdump's packet counters (received, dropped by the
                   kernel) this often (default 3600; 0: only at exit)
  --dedupe seconds write at most one line per source address, protocol and
                   destination port (ICMP type) in this many seconds, so that
                   fail2ban's maxretry counts ports probed (default 0: off)
  --dedupe-max entries
                   source/protocol/port entries remembered (default 100000)
  -h, --help       show this help
  -V, --version    show the version
  -- expression    tcpdump filter expression, last, after --,
                   e.g. -- 'inbound and action block'

Signals: HUP or USR1 reopen the log files; TERM or INT stop.
`;

/** Every flag the help text lists, for the man page check. */
export const DAEMON_FLAGS = ['-i', '-f', '-o', '-p', '-u', '-s', '--tcpdump', '-r', '--decoder', '--format', '--stats-interval', '--dedupe', '--dedupe-max', '-h', '--help', '-V', '--version'];
