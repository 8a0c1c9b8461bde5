// Exit codes from sysexits(3), which BSD admins and rc scripts expect.
export const EX_OK = 0;
/** Another instance is running: not a sysexits code, the traditional 1. */
export const EX_RUNNING = 1;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOINPUT = 66;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_CANTCREAT = 73;
export const EX_IOERR = 74;
export const EX_CONFIG = 78;

/** An error that ends the program with a one-line message and an exit code. */
export class ExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** "ENOENT (no such file or directory)" from a Node system error, for one-line messages. */
export function describeErrno(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') {
    const text = typeof e.message === 'string' ? e.message.replace(/^[A-Z0-9]+: /, '').replace(/,.*$/, '') : '';
    return text ? `${text} (${e.code})` : e.code;
  }
  return String(err);
}
