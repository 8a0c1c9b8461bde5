import type * as fs from 'node:fs';

/** What a path is, for a message: "a directory", "a FIFO", ... (lstat's Stats, so a link is named). */
export function fileKind(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isFile()) return 'a file';
  return 'not a regular file';
}
