import type { NodeView } from '../../../shared/api-types.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { MetadataStore, NodeRecord } from '../metadata/metadata-store.ts';
import type { NodeLink } from './node-link.ts';
import { NodeTraffic } from './link-traffic.ts';

/**
 * The nodes connected now, one link each, and the cluster's view of every node it knows: a node's
 * status comes from its link here or, when it has none here, from the other gateways that hear it
 * (JointLiveness), its history from the metadata. A node is offline only when no gateway hears it;
 * but only a node linked here can be read from or written to through this gateway.
 */
export class NodeRegistry {
  readonly #links = new Map<string, NodeLink>();
  /** Nodes other gateways heard lately, and when they last did (this gateway's clock). */
  #elsewhere = new Map<string, string>();
  /** Frames and bytes each node's sessions carried, for /metrics. */
  readonly traffic = new NodeTraffic();
  readonly #metadata: MetadataStore;
  readonly #events: EventBus;

  constructor(metadata: MetadataStore, events: EventBus) {
    this.#metadata = metadata;
    this.#events = events;
  }

  /** A node passed the handshake; a session of the same node it replaces is closed by the caller. */
  add(link: NodeLink): void {
    this.#links.set(link.id, link);
  }

  /** The current link of a node that is connected, whatever its state. */
  link(id: string): NodeLink | undefined {
    const link = this.#links.get(id);
    return link && link.state !== 'closed' ? link : undefined;
  }

  /** Every connected link, for liveness checks and shutdown. */
  links(): NodeLink[] {
    return [...this.#links.values()];
  }

  /** Links whose copies can be read: online or draining. */
  readableLinks(): NodeLink[] {
    return this.links().filter((link) => link.readable);
  }

  /** Links that take new copies: online and not draining. */
  writableLinks(): NodeLink[] {
    return this.links().filter((link) => link.writable);
  }

  /** Whether a copy on this node can be read now. */
  readable(id: string): boolean {
    return this.link(id)?.readable === true;
  }

  /** Whether a copy on this node counts toward R: the node is online and not draining. */
  writable(id: string): boolean {
    return this.link(id)?.writable === true;
  }

  /** Whether some gateway of the cluster, this one or another, hears the node: offline means none does. */
  alive(id: string): boolean {
    return this.readable(id) || this.#elsewhere.has(id);
  }

  /** Whether another gateway heard the node lately while this one has no link to it that serves. */
  heardElsewhere(id: string): boolean {
    return !this.readable(id) && this.#elsewhere.has(id);
  }

  /** Every node some gateway hears. */
  aliveIds(): string[] {
    return [...new Set([...this.readableLinks().map((link) => link.id), ...this.#elsewhere.keys()])];
  }

  /**
   * What the other gateways heard lately. A node this gateway has no link to whose status changed
   * with it joined or left as far as this gateway's listeners (dashboards, repair) are concerned.
   */
  async heardByOthers(heard: Map<string, string>): Promise<void> {
    const before = this.#elsewhere;
    this.#elsewhere = heard;
    const changed = [...new Set([...before.keys(), ...heard.keys()])].filter((id) => before.has(id) !== heard.has(id) && !this.readable(id));
    await Promise.all(changed.map((id) => this.publish(heard.has(id) ? 'node.joined' : 'node.left', id)));
  }

  async views(): Promise<NodeView[]> {
    const records = await this.#metadata.listNodes();
    return records.map((record) => this.#view(record)).sort((a, b) => a.id.localeCompare(b.id));
  }

  async view(id: string): Promise<NodeView | undefined> {
    const record = await this.#metadata.getNode(id);
    return record && this.#view(record);
  }

  /** Closes a node's session for good, e.g. when it is removed from the cluster. */
  disconnect(id: string, code: number, reason: string): void {
    const link = this.#links.get(id);
    this.#links.delete(id);
    link?.close(code, reason);
  }

  /** The node's inventory is reconciled: it may serve now. */
  async joined(link: NodeLink): Promise<void> {
    if (this.#links.get(link.id) !== link || link.state === 'closed') return;
    link.join();
    await this.publish('node.joined', link.id);
  }

  stats(link: NodeLink): void {
    this.publish('node.stats', link.id).catch(() => {});
  }

  closed(link: NodeLink): void {
    if (this.#links.get(link.id) !== link) return;
    this.#links.delete(link.id);
    this.#leave(link).catch(() => {});
  }

  async publish(type: 'node.joined' | 'node.left' | 'node.stats', id: string): Promise<void> {
    const node = await this.view(id);
    if (node) this.#events.publish({ type, node });
  }

  async #leave(link: NodeLink): Promise<void> {
    await this.#metadata.recordSession(link.id, {
      kind: link.kind,
      capacityBytes: link.capacityBytes,
      usedBytes: link.usedBytes,
      chunkCount: link.chunkCount,
      cpu: link.cpu,
      lastSeenAt: link.lastHeardAt,
    });
    await this.publish('node.left', link.id);
  }

  #view(record: NodeRecord): NodeView {
    const link = this.link(record.id);
    const online = this.alive(record.id);
    const heardAt = link ? link.lastHeardAt : this.#elsewhere.get(record.id);
    return {
      id: record.id,
      kind: record.kind,
      status: !online ? 'offline' : record.draining ? 'draining' : 'online',
      capacityBytes: link?.capacityBytes ?? record.capacityBytes,
      usedBytes: link?.usedBytes ?? record.usedBytes,
      chunkCount: link?.chunkCount ?? record.chunkCount,
      cpu: record.cpu,
      lastSeenAt: heardAt ?? record.lastSeenAt,
      writeBps: link?.writeRate.perSecond() ?? 0,
      readBps: link?.readRate.perSecond() ?? 0,
      quarantine: record.quarantine,
      linked: this.readable(record.id),
    };
  }
}
