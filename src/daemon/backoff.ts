// Restart delays for the capture process: 1 s doubling to 60 s, back to 1 s
// once a run has lasted 60 s. A tcpdump that fails at once therefore starts at
// most 7 times in its first minute instead of spinning.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** a run at least this long resets the delay */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60000, stableMs: 60000 };

export class Backoff {
  private nextMs: number;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {
    this.nextMs = policy.initialMs;
  }

  /** The delay before the next start, given how long the last run lasted. */
  afterExit(uptimeMs: number): number {
    if (uptimeMs >= this.policy.stableMs) this.nextMs = this.policy.initialMs;
    const delay = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.policy.maxMs);
    return delay;
  }
}
