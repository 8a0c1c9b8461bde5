#!/usr/bin/env python3
"""Baseline (b) for `npm run bench`: a text relay built like the reference.

    relay.py LOG COMMAND [ARG...]

Runs COMMAND (tcpdump) with its stdout on a pipe and, for every line it
prints, appends "<ISO-8601 local stamp with microseconds> <line>" to LOG, one
write and one flush per line. Exits with the command's status once it exits.
"""

import asyncio
import sys
from datetime import datetime


async def relay(log_path, argv):
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
    with open(log_path, "a", encoding="utf-8", errors="backslashreplace") as log:
        async for line in proc.stdout:
            stamp = datetime.now().astimezone().isoformat(timespec="microseconds")
            log.write(stamp + " " + line.decode("utf-8", "backslashreplace"))
            log.flush()
    return await proc.wait()


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: relay.py LOG COMMAND [ARG...]")
    sys.exit(asyncio.run(relay(sys.argv[1], sys.argv[2:])))


if __name__ == "__main__":
    main()
