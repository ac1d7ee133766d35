/**
 * When a node's silence makes it offline, judged at each heartbeat of the gateway. A heartbeat
 * that comes late means this process was starved (a loaded machine, a long pause), not that the
 * nodes were: their answers may be waiting unread, and a timer runs before the sockets are read.
 * So the time this process stalled does not count as silence: a node is offline once it has been
 * silent for offlineAfterMs of this process's attention. Each heartbeat, however late, counts as
 * one heartbeat of attention, so a gateway that keeps stalling still judges a node that is gone,
 * only later. Times are performance.now(): a wall clock stepped back or forward moves no deadline.
 */
export class SilenceDeadline {
  readonly #heartbeatMs: number;
  readonly #offlineAfterMs: number;
  /** A gap between heartbeats longer than this is a stall of this process. */
  readonly #stallMs: number;
  #lastBeatAt: number;
  /** Spans this process did not listen, oldest first, those a deadline may still reach back past. */
  readonly #stalls: Array<{ from: number; to: number }>;

  constructor(heartbeatMs: number, offlineAfterMs: number, now = performance.now()) {
    this.#heartbeatMs = heartbeatMs;
    this.#offlineAfterMs = offlineAfterMs;
    // Long enough that a merely slow timer is no stall, short enough to catch any gap that could by
    // itself make a node that answered every ping look silent for offlineAfterMs.
    this.#stallMs = Math.max(2 * heartbeatMs, offlineAfterMs / 2);
    this.#lastBeatAt = now;
    // Before it started, this process heard nothing.
    this.#stalls = [{ from: -Infinity, to: now }];
  }

  /**
   * Called at each heartbeat: a node last heard before the time returned is offline, -Infinity when
   * this process has not yet listened for offlineAfterMs.
   */
  beat(now = performance.now()): number {
    if (now - this.#lastBeatAt > this.#stallMs) this.#stalls.push({ from: this.#lastBeatAt + this.#heartbeatMs, to: now });
    this.#lastBeatAt = now;
    // Back from now, skipping the stalls, until offlineAfterMs of listening is behind.
    let at = now;
    let left = this.#offlineAfterMs;
    for (let i = this.#stalls.length - 1; i >= 0; i--) {
      const stall = this.#stalls[i]!;
      if (at - stall.to >= left) {
        // The deadline never moves back, so no later one reaches this stall or an older one.
        this.#stalls.splice(0, i + 1);
        break;
      }
      left -= at - stall.to;
      at = stall.from;
    }
    return at - left;
  }
}
