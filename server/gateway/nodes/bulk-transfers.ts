import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { LinkTraffic } from './link-traffic.ts';

/** A chunk waiting to be fetched by the node that is to store it. */
export interface Outgoing {
  direction: 'to-node';
  data: Uint8Array;
}

/** A chunk the gateway asked a node for, to be posted by that node: `deliver` answers the get. */
export interface Incoming {
  direction: 'from-node';
  /** The most the get can yield: a longer body is refused before it is all read. */
  maxBytes: number;
  deliver(data: Uint8Array): void;
}

export type Transfer = (Outgoing | Incoming) & {
  traffic: LinkTraffic;
  /**
   * Aborted once the node request the transfer belongs to is over (answered, timed out, link
   * closed): an HTTP exchange for it still under way is then cut off, so a node that stalls one
   * cannot hold a connection and a chunk's worth of the gateway's memory for ever.
   */
  over: AbortSignal;
};

interface Open {
  session: Buffer;
  transfer: Transfer;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One-time HTTP transfers of chunk bytes between the gateway and nodes whose session offered it
 * (browser tabs: their fetch moves bytes several times faster than their WebSocket). A transfer is
 * named by a random id sent only over its node's WebSocket, and can only be taken together with
 * that session's random key, once, before it expires. There are at most `limit` open at a time;
 * past that the link sends the bytes in a frame.
 */
export class BulkTransfers {
  readonly #open = new Map<string, Open>();
  readonly #limit: number;

  constructor(limit = 4096) {
    this.#limit = limit;
  }

  /** A key for a new node session, which its transfers are bound to. */
  newSession(): string {
    return randomBytes(24).toString('base64url');
  }

  /** The transfer's id, or null when too many are open. It expires after `ttlMs` unless taken or closed first. */
  open(session: string, transfer: Transfer, ttlMs: number): string | null {
    if (this.#open.size >= this.#limit) return null;
    const id = randomBytes(18).toString('base64url');
    const timer = setTimeout(() => this.#open.delete(id), ttlMs);
    timer.unref();
    this.#open.set(id, { session: Buffer.from(session), transfer, timer });
    return id;
  }

  /** Removes a transfer whose request settled, taken or not. */
  close(id: string): void {
    const open = this.#open.get(id);
    if (!open) return;
    clearTimeout(open.timer);
    this.#open.delete(id);
  }

  /** The transfer, removed so it cannot be used again; undefined when unknown, expired, used, or of another session. */
  take(session: string, id: string): Transfer | undefined {
    const open = this.#open.get(id);
    if (!open) return undefined;
    const given = Buffer.from(session);
    if (given.length !== open.session.length || !timingSafeEqual(given, open.session)) return undefined;
    this.close(id);
    return open.transfer;
  }

  get size(): number {
    return this.#open.size;
  }
}
