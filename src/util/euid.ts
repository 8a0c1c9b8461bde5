/** The effective uid, or -1 where the platform has none (ownership checks then never match). */
export function effectiveUid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : -1;
}
