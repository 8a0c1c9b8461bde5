// The daemon's V8 heap is capped where it is started (the rc.d scripts and the
// systemd unit run node with HEAP_FLAGS): a long-running root process on a
// small firewall should fail loudly at a known size, not grow until the
// kernel's OOM killer picks a victim. The one thing that needs much heap is
// --dedupe's table, whose size the admin sets: a --dedupe-max the cap cannot
// hold is a configuration error, said at start rather than as a crash when the
// table fills under a flood.

import { getHeapStatistics } from 'node:v8';

/** What etc/rc.d/pfasciilogd, etc/rc.d/pfasciilogd.openbsd and the systemd unit pass to node. */
export const HEAP_FLAGS = ['--max-old-space-size=96', '--max-semi-space-size=2'] as const;

const MB = 1024 * 1024;
/** heap the daemon uses without --dedupe, with room to spare (measured: 5-15 MB) */
const BASE_HEAP = 40 * MB;
/** one (source, protocol, port) entry of the --dedupe table, IPv6 keys included (measured: ~150 bytes for IPv4) */
export const DEDUPE_ENTRY_BYTES = 250;

/** Why the heap cannot hold the daemon with these options, or null. */
export function heapProblem(o: { dedupe: number; dedupeMax: number }, limit: number = getHeapStatistics().heap_size_limit): string | null {
  if (o.dedupe === 0) return null;
  const need = BASE_HEAP + o.dedupeMax * DEDUPE_ENTRY_BYTES;
  if (need <= limit) return null;
  const mb = (b: number) => Math.ceil(b / MB);
  return (
    `--dedupe-max ${o.dedupeMax} needs about ${mb(need)} MB of V8 heap and node allows this process ${mb(limit)} MB: ` +
    `lower --dedupe-max, or raise --max-old-space-size where node is started (rc.d script, systemd unit)`
  );
}
