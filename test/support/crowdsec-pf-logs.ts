// CrowdSec's parser for filterlog lines, translated by hand from its grok to
// a JavaScript regular expression: crowdsecurity/hub,
// parsers/s01-parse/firewallservices/pf-logs.yaml (PF_BASE, PF_IP,
// PF_IPV4_DATA, PF_IPV6_DATA, PF_UDP_DATA, PF_TCP_DATA, PF_PROTOCOL and its
// grok line), with grok's base patterns INT, WORD, USERNAME, BASE16NUM,
// POSINT, DATA, GREEDYDATA and IP (IPV6 simplified to hex groups and colons,
// IPV4 exact). The older form in Debian 12's hub snapshot is
// "%{INT:rule},(%{INT:sub_rule})?,,%{INT:tracker},...": an empty anchor and
// a numeric tracker; both are checked. For test/unit/filterlog.test.ts and
// test/stress/hostile-bytes.test.ts; section 3's tests run the real parser.
const G = {
  INT: '(?:[+-]?(?:[0-9]+))',
  WORD: '\\b\\w+\\b',
  PF_WORD: '[a-zA-Z0-9._-]+',
  BASE16NUM: '(?<![0-9A-Fa-f])(?:[+-]?(?:0x)?(?:[0-9A-Fa-f]+))',
  POSINT: '\\b(?:[1-9][0-9]*)\\b',
  IPV4: '(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9]{1,2})\\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9]{1,2})',
  /** hex groups and colons, ending in a group or a dotted quad (::a.b.c.d) as grok's IPV6 allows */
  IPV6: '(?:[0-9A-Fa-f]{0,4}:){2,7}',
};
const IP = `(?:${G.IPV6}(?:${G.IPV4}|[0-9A-Fa-f]{0,4})|${G.IPV4})`;
const PF_IPV4_DATA = `(?<ip4_tos>${G.BASE16NUM}),(?<ip4_ecn>${G.INT})?,(?<ip4_ttl>${G.INT}),(?<ip4_id>${G.INT}),(?<ip4_offset>${G.INT}),(?<ip4_flags>${G.WORD}),(?<ip4_proto_id>${G.INT}),(?<ip4_proto>${G.WORD})`;
const PF_IPV6_DATA = `(?<ip6_class>${G.BASE16NUM}),(?<ip6_flow_label>${G.BASE16NUM}),(?<ip6_hop_limit>${G.INT}),(?<ip6_proto>${G.WORD}),(?<ip6_proto_id>${G.INT})`;
const PF_IP = `(?<ip_ver>${G.INT}),(?:${PF_IPV4_DATA}|${PF_IPV6_DATA}),(?<length>${G.INT}),(?<src_ip>${IP}),(?<dst_ip>${IP})`;
const PF_PROTOCOL = `(?<src_port>${G.POSINT}),(?<dst_port>${G.POSINT}),(?<data_length>${G.INT})(?:,(?<tcp_flags>${G.WORD}),(?<sequence_number>${G.INT}),(?:(?<ack_number>${G.INT}))?,(?<tcp_window>${G.INT}),(?<urg_data>.*?)?,(?<tcp_options>.*))?`;
const PREFIX = '(?:filterlog:\\s+|filterlog(?:\\s+(?<filterlog_pid>' + G.INT + '))?\\s+-\\s+\\[[^\\]]*\\]\\s+)?';
export const PF_LOGS = new RegExp(`${PREFIX}(?<rule>${G.INT}),(?<sub_rule>${G.INT})?,(?<anchorname>${G.WORD})?,(?:(?<tracker>${G.WORD})| 0),(?<iface>${G.PF_WORD}),(?<reason>${G.WORD}),(?<action>${G.WORD}),(?<direction>${G.WORD}),${PF_IP},${PF_PROTOCOL}`);
export const PF_LOGS_DEBIAN = new RegExp(`${PREFIX}(?<rule>${G.INT}),(?<sub_rule>${G.INT})?,,(?<tracker>${G.INT}),(?<iface>${G.PF_WORD}),(?<reason>${G.WORD}),(?<action>${G.WORD}),(?<direction>${G.WORD}),${PF_IP},${PF_PROTOCOL}`);


/** What CrowdSec's pf-logs sees: crowdsecurity/syslog-logs hands it the text after "filterlog[PID]: ". */
export function crowdsecMessage(line: string): string {
  const i = line.indexOf(' filterlog[');
  const j = i < 0 ? -1 : line.indexOf(']: ', i);
  return j < 0 ? line : line.slice(j + 3);
}
