import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { RepairStats } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import type { Lease } from '../lease/lease.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import type { RepairerFigures, RepairerFront } from './repairer-front.ts';

/** gateway_state keys: the holder's figures, and requests and answers by id. */
const FIGURES = 'repairer:figures';
const REQUEST = 'repairer:request:';
const ANSWER = 'repairer:answer:';
/** How often the holder writes its figures and takes requests. */
const DESK_MS = 1000;
/** How long a request through another gateway waits for the holder's answer. */
const ANSWER_WAIT_MS = 10_000;
const ANSWER_POLL_MS = 100;

type Action = 'rebalance' | 'clearFailures' | 'confirm';

/**
 * The repair lease holder's desk in the shared PostgreSQL database (rows of `gateway_state`): the
 * holder writes its repair and orphan figures there every second and takes the admin requests
 * other gateways left there, answering each in a row the asker reads. Through the database rather
 * than gateway to gateway, so no gateway has to trust or reach another's HTTP API.
 */
export class RepairerDesk implements RepairerFront {
  readonly #pool: pg.Pool;
  readonly #lease: Lease;
  readonly #local: RepairerFront;
  #timer: ReturnType<typeof setInterval> | null = null;
  #serving: Promise<void> = Promise.resolve();

  constructor(pool: pg.Pool, lease: Lease, local: RepairerFront) {
    this.#pool = pool;
    this.#lease = lease;
    this.#local = local;
  }

  /** Serves the desk every second while this gateway holds the lease. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.#serving = this.#serving.then(() => this.serve()).catch(() => {});
    }, DESK_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#serving;
  }

  /** As the holder: the figures written, the waiting requests acted on and answered. */
  async serve(): Promise<void> {
    if (!this.#lease.held) return;
    await this.#set(FIGURES, await this.#local.figures());
    const { rows } = await this.#pool.query<{ key: string; value: string }>(
      "DELETE FROM gateway_state WHERE key LIKE 'repairer:request:%' RETURNING key, value",
    );
    for (const row of rows) {
      const action = JSON.parse(row.value) as Action;
      await this.#set(ANSWER + row.key.slice(REQUEST.length), await this.#local[action]());
    }
  }

  async figures(): Promise<RepairerFigures> {
    if (this.#lease.held) return this.#local.figures();
    const { rows } = await this.#pool.query<{ value: string }>('SELECT value FROM gateway_state WHERE key = $1', [FIGURES]);
    return rows[0] ? (JSON.parse(rows[0].value) as RepairerFigures) : this.#local.figures();
  }

  rebalance(): Promise<RepairStats> {
    return this.#ask('rebalance') as Promise<RepairStats>;
  }

  clearFailures(): Promise<RepairStats> {
    return this.#ask('clearFailures') as Promise<RepairStats>;
  }

  confirm(): Promise<string[]> {
    return this.#ask('confirm') as Promise<string[]>;
  }

  async #ask(action: Action): Promise<unknown> {
    if (this.#lease.held) return this.#local[action]();
    const id = randomUUID();
    await this.#set(REQUEST + id, action);
    const deadline = Date.now() + ANSWER_WAIT_MS;
    while (Date.now() < deadline) {
      await sleep(ANSWER_POLL_MS);
      const { rows } = await this.#pool.query<{ value: string }>('DELETE FROM gateway_state WHERE key = $1 RETURNING value', [ANSWER + id]);
      if (rows[0]) return JSON.parse(rows[0].value);
    }
    // Not taken: withdrawn, so that it is not acted on long after the caller was told it failed.
    const { rowCount } = await this.#pool.query('DELETE FROM gateway_state WHERE key = $1', [REQUEST + id]);
    throw new ShoalError(
      'TIMEOUT',
      rowCount ? `no gateway holding the repair lease took the ${action} request within ${ANSWER_WAIT_MS / 1000} s` : `the ${action} request was taken but not answered`,
    );
  }

  async #set(key: string, value: unknown): Promise<void> {
    await this.#pool.query('INSERT INTO gateway_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, JSON.stringify(value)]);
  }
}

/** The admin API's way to the background work: through the desk on PostgreSQL (served from now on), `local` itself on SQLite, the only gateway. */
export function openRepairer(metadata: MetadataStore, lease: Lease, local: RepairerFront): { front: RepairerFront; stop(): Promise<void> } {
  if (!(metadata instanceof PostgresMetadataStore)) return { front: local, stop: async () => {} };
  const desk = new RepairerDesk(metadata.pool, lease, local);
  desk.start();
  return { front: desk, stop: () => desk.stop() };
}
