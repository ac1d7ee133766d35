import type { NodeView } from './node-registry.ts';
import type { RepairStats } from '../../shared/api-types.ts';

export interface FileEventView {
  name: string;
  size: number;
  sha256: string;
  chunks: number;
  createdAt: string;
}

export type ShoalEvent =
  | { type: 'node.joined'; node: NodeView }
  | { type: 'node.left'; node: NodeView }
  | { type: 'node.stats'; node: NodeView }
  | { type: 'node.removed'; nodeId: string }
  | { type: 'file.added'; file: FileEventView }
  | { type: 'file.removed'; name: string }
  | { type: 'replica.lost'; hash: string; nodeId: string; reason: string }
  | ({ type: 'repair.progress'; underReplicatedChunks: number } & RepairStats)
  | { type: 'orphans.collected'; nodeId: string; count: number };

type Listener = (event: ShoalEvent) => void;

/** Fan-out of what happens in the gateway, for the SSE stream and the terminal status. */
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
