import pg from 'pg';
import type { ClusterChannel } from './cluster-channel.ts';

const CHANNEL = 'shoal_events';

/** Messages kept while the database is unreachable; older ones go first, as they are the stalest. */
const MAX_QUEUED = 1000;

const RECONNECT_MS = 1000;

/** How the channel's connection shows in pg_stat_activity, for an operator (and a test) to find it. */
export const CHANNEL_APPLICATION_NAME = 'shoal events';

/**
 * A ClusterChannel over PostgreSQL's LISTEN/NOTIFY, on one client of its own (a pooled client
 * would stop listening when handed back). The same client sends, one message at a time, so every
 * gateway receives one gateway's messages in the order they were sent. When the connection drops
 * it reconnects every second, listens again and sends what was queued meanwhile.
 */
export class PostgresNotifyChannel implements ClusterChannel {
  readonly #config: pg.ClientConfig;
  readonly #listeners = new Set<(message: string) => void>();
  readonly #resyncListeners = new Set<() => void>();
  readonly #queue: string[] = [];
  #client: pg.Client | null = null;
  #sending = false;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;

  private constructor(config: pg.ClientConfig) {
    this.#config = config;
  }

  /** Connects with the settings of `pool` (the metadata's), listening before it answers. */
  static async open(pool: pg.Pool): Promise<PostgresNotifyChannel> {
    const channel = new PostgresNotifyChannel({ ...(pool.options as pg.ClientConfig), application_name: CHANNEL_APPLICATION_NAME });
    await channel.#connect();
    return channel;
  }

  send(message: string): void {
    if (this.#closed) return;
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift();
    this.#queue.push(message);
    void this.#pump();
  }

  onMessage(listener: (message: string) => void): void {
    this.#listeners.add(listener);
  }

  onResync(listener: () => void): void {
    this.#resyncListeners.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    client.on('notification', (note) => {
      if (note.channel !== CHANNEL || note.payload === undefined) return;
      for (const listener of this.#listeners) listener(note.payload);
    });
    // A dropped connection ends the client: a new one replaces it. Errors come with the end.
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.#closed) return void (await client.end().catch(() => {}));
    this.#client = client;
    void this.#pump();
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => {});
    this.#reconnectSoon();
  }

  #reconnectSoon(): void {
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect().then(
        () => {
          for (const listener of this.#resyncListeners) listener();
        },
        () => this.#reconnectSoon(),
      );
    }, RECONNECT_MS);
    this.#retry.unref();
  }

  async #pump(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (this.#queue.length > 0 && this.#client) {
        const client = this.#client;
        try {
          await client.query('SELECT pg_notify($1, $2)', [CHANNEL, this.#queue[0]]);
          this.#queue.shift();
        } catch (err) {
          // The server refused this message (e.g. too long): sending it again would fail again.
          if (err instanceof pg.DatabaseError) this.#queue.shift();
          // The connection failed: the message stays first for the next one.
          else this.#lost(client);
        }
      }
    } finally {
      this.#sending = false;
    }
  }
}
