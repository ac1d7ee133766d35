/** What went over one node's WebSocket sessions since the gateway started: plain counters, read by /metrics. */
export interface LinkTraffic {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Chunk bytes moved over HTTP instead (BULK_PATH): posted by the node, fetched by it. */
  bulkBytesIn: number;
  bulkBytesOut: number;
  /** Requests the node answered with an error or not at all, and sessions closed for breaking the protocol. */
  errors: number;
}

/**
 * Traffic counts by node id, kept across a node's sessions so a reconnect does not reset them.
 * Only nodes past the handshake get an entry: the labels are bounded by the cluster's nodes.
 */
export class NodeTraffic {
  readonly #byNode = new Map<string, LinkTraffic>();

  of(nodeId: string): LinkTraffic {
    let traffic = this.#byNode.get(nodeId);
    if (!traffic) {
      traffic = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, bulkBytesIn: 0, bulkBytesOut: 0, errors: 0 };
      this.#byNode.set(nodeId, traffic);
    }
    return traffic;
  }

  entries(): IterableIterator<[string, LinkTraffic]> {
    return this.#byNode.entries();
  }
}
