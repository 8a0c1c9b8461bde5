// Interface index -> name on this host, for NFLOG lines (the kernel logs
// indexes). Linux lists them in /sys/class/net/<name>/ifindex. The table is
// read once and again when an unknown index shows up (an interface created
// since), at most once every few seconds, so a flood of odd indexes costs
// nothing.

import * as fs from 'node:fs';
import type { InterfaceNames } from '../format/nflog-text.js';

const REFRESH_MS = 5000;
const SYS_NET = '/sys/class/net';

function readTable(): Map<number, string> {
  const table = new Map<number, string>();
  let names: string[];
  try {
    names = fs.readdirSync(SYS_NET);
  } catch {
    return table; // not Linux, or no sysfs: indexes stay numbers
  }
  for (const name of names) {
    try {
      const index = Number(fs.readFileSync(`${SYS_NET}/${name}/ifindex`, 'latin1').trim());
      if (Number.isInteger(index)) table.set(index, name);
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

export function hostInterfaceNames(now: () => number = Date.now): InterfaceNames {
  let table = readTable();
  let readAt = now();
  return (index) => {
    const name = table.get(index);
    if (name !== undefined) return name;
    if (now() - readAt >= REFRESH_MS) {
      table = readTable();
      readAt = now();
      return table.get(index) ?? null;
    }
    return null;
  };
}
