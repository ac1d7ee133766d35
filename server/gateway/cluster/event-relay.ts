import type { ShoalEvent } from '../../../shared/api-types.ts';
import { CLOSE } from '../../../shared/protocol.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import { MAX_MESSAGE_BYTES, type ClusterChannel } from './cluster-channel.ts';

/** A node's session as far as the relay needs it; NodeLink has this shape. */
interface RelayLink {
  readonly state: string;
  quarantine: string | null;
  setDraining(draining: boolean): void;
}

/** The nodes linked to this gateway, as the relay needs them; NodeRegistry has this shape. */
export interface RelayNodes {
  link(id: string): RelayLink | undefined;
  links(): ReadonlyArray<{ readonly id: string }>;
  disconnect(id: string, code: number, reason: string): void;
  publish(type: 'node.stats', id: string): Promise<void>;
}

/**
 * What every gateway sees on its own, and so is never relayed: each node keeps a link to every
 * gateway, which hears its joins, departures and reports itself.
 */
const LOCAL: ReadonlySet<ShoalEvent['type']> = new Set(['node.joined', 'node.left', 'node.stats']);

type Message = { from: string; event: ShoalEvent } | { from: string; nodeChanged: string };

/**
 * Carries what happens through one gateway to the others' event buses, so a dashboard on any of
 * them shows the whole cluster and their services hear what they react to (a copy lost, a node
 * removed). Each message names its gateway, which ignores its own.
 *
 * An admin's drain, undrain, trust or a quarantine changes a node's flags in the metadata, and
 * each gateway's link to that node keeps a copy of them (a draining node takes no new copies):
 * those changes go out as "node changed", and each other gateway reloads that node's flags before
 * it shows the node anew. A node removed through one gateway is disconnected by every other.
 */
export class EventRelay {
  readonly #self: string;
  readonly #events: EventBus;
  readonly #channel: ClusterChannel;
  readonly #nodes: RelayNodes;
  readonly #metadata: Pick<MetadataStore, 'getNode' | 'listNodes'>;
  /** Events this relay published for another gateway: not sent back. */
  readonly #received = new WeakSet<ShoalEvent>();
  /** The flags each linked node had when last seen here, to tell an admin's change from a report. */
  readonly #flags = new Map<string, string>();
  /** Nodes being shown anew for another gateway's change: their node.stats is not a change of ours. */
  readonly #applying = new Set<string>();
  #unsubscribe: () => void = () => {};

  constructor(self: string, events: EventBus, channel: ClusterChannel, nodes: RelayNodes, metadata: Pick<MetadataStore, 'getNode' | 'listNodes'>) {
    this.#self = self;
    this.#events = events;
    this.#channel = channel;
    this.#nodes = nodes;
    this.#metadata = metadata;
  }

  start(): void {
    this.#unsubscribe = this.#events.subscribe((event) => this.#outgoing(event));
    this.#channel.onMessage((text) => {
      this.#incoming(text).catch(() => {});
    });
    this.#channel.onResync(() => {
      this.#reloadAll().catch(() => {});
    });
  }

  stop(): void {
    this.#unsubscribe();
  }

  #outgoing(event: ShoalEvent): void {
    if (this.#received.has(event)) return;
    if (event.type === 'node.joined') this.#flags.set(event.node.id, this.#flagsOf(event.node.id));
    else if (event.type === 'node.left') this.#flags.delete(event.node.id);
    else if (event.type === 'node.stats') {
      const id = event.node.id;
      const flags = this.#flagsOf(id);
      // Reports of a linked node change nothing the other gateways keep; with no link here, only
      // an admin's change can have published it.
      if (this.#applying.has(id) || (flags !== 'unlinked' && this.#flags.get(id) === flags)) return;
      if (flags !== 'unlinked') this.#flags.set(id, flags);
      this.#send({ from: this.#self, nodeChanged: id });
    }
    if (!LOCAL.has(event.type)) this.#send({ from: this.#self, event });
  }

  #send(message: Message): void {
    const text = fitted(message);
    if (text !== null) this.#channel.send(text);
  }

  async #incoming(text: string): Promise<void> {
    const message = JSON.parse(text) as Message;
    if (message.from === this.#self) return;
    if ('nodeChanged' in message) return this.#reload(message.nodeChanged);
    const { event } = message;
    if (event.type === 'node.removed') {
      this.#nodes.disconnect(event.nodeId, CLOSE.REMOVED, 'node removed from the cluster');
      this.#flags.delete(event.nodeId);
    }
    this.#received.add(event);
    this.#events.publish(event);
  }

  /** Takes a node's flags from the metadata into its link here, and shows it anew. */
  async #reload(id: string): Promise<void> {
    const record = await this.#metadata.getNode(id);
    const link = this.#nodes.link(id);
    if (record && link) {
      link.setDraining(record.draining);
      link.quarantine = record.quarantine;
      this.#flags.set(id, this.#flagsOf(id));
    }
    this.#applying.add(id);
    try {
      await this.#nodes.publish('node.stats', id);
    } finally {
      this.#applying.delete(id);
    }
  }

  /**
   * After messages may have been missed: every linked node's flags from the metadata, and the
   * sessions of nodes removed meanwhile dropped, as their node.removed would have.
   */
  async #reloadAll(): Promise<void> {
    // Links first: a node enrolled while the records are read has a record before its link.
    const linked = this.#nodes.links().map((link) => link.id);
    const records = await this.#metadata.listNodes();
    const enrolled = new Set(records.map((record) => record.id));
    for (const id of linked) {
      if (enrolled.has(id)) continue;
      this.#nodes.disconnect(id, CLOSE.REMOVED, 'node removed from the cluster');
      this.#flags.delete(id);
    }
    for (const record of records) {
      const link = this.#nodes.link(record.id);
      if (!link) continue;
      link.setDraining(record.draining);
      link.quarantine = record.quarantine;
      this.#flags.set(record.id, this.#flagsOf(record.id));
    }
  }

  #flagsOf(id: string): string {
    const link = this.#nodes.link(id);
    return link ? JSON.stringify([link.state === 'draining', link.quarantine]) : 'unlinked';
  }
}

/** The message as the channel can carry it: long texts (a failure's reason) cut short, or null when it still does not fit. */
function fitted(message: Message): string | null {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text) <= MAX_MESSAGE_BYTES) return text;
  const cut = JSON.stringify(message, (_key, value: unknown) => (typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…` : value));
  return Buffer.byteLength(cut) <= MAX_MESSAGE_BYTES ? cut : null;
}
