import type { ShoalEvent } from '../../../shared/api-types.ts';

type Listener = (event: ShoalEvent) => void;

/**
 * Fan-out of what happens in the gateway: the SSE stream and the terminal status show it, and
 * healing reacts to it (a node left, a copy was lost) without the modules that saw it knowing.
 */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: ShoalEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
