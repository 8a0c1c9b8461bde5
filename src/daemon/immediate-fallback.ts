// A tcpdump that refuses --immediate-mode (older than 4.6, or built without
// it) exits at once, before any packet: restarted with the same flag, it would
// fail forever and capture nothing. This notices the refusal in the run's
// stderr and turns the flag off for the runs that follow.

import { immediateModeRefusal } from '../capture/tcpdump-command.js';

/** stderr kept per run for the check: a refusal comes first, with the usage text */
const STDERR_KEPT = 8192;

export class ImmediateModeFallback {
  /** whether the next run asks for --immediate-mode */
  enabled = true;
  private sawStdout = false;
  private stderr = '';

  runStart(): void {
    this.sawStdout = false;
    this.stderr = '';
  }

  stdout(): void {
    this.sawStdout = true;
  }

  stderrChunk(chunk: Buffer): void {
    if (this.enabled && this.stderr.length < STDERR_KEPT) this.stderr += chunk.toString('latin1', 0, STDERR_KEPT - this.stderr.length);
  }

  /**
   * At the end of a run: the line in which tcpdump refused the flag, the
   * first time it does (the flag is off from then on), else null. Only a run
   * that failed (non-zero exit) before writing anything counts.
   */
  runEnd(exitCode: number | null): string | null {
    if (!this.enabled || this.sawStdout || exitCode === null || exitCode === 0) return null;
    const refusal = immediateModeRefusal(this.stderr);
    if (refusal !== null) this.enabled = false;
    return refusal;
  }
}
