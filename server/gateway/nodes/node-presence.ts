/**
 * Which gateway hears which node, and when it last did, in the database the gateways share: a
 * node is offline only when no gateway has heard it within --offline-after-ms. Each gateway writes
 * the nodes it hears in one statement a heartbeat, and reads what the others heard. Times are the
 * store's clock, never a gateway's: on PostgreSQL the database's, so a gateway whose clock runs
 * ahead or behind neither keeps dead nodes alive nor makes live ones look gone.
 */
export interface NodePresence {
  /** `gatewayId` hears these nodes now. */
  heard(gatewayId: string, nodeIds: readonly string[]): Promise<void>;
  /** `gatewayId` no longer hears these nodes, or, without them, any node (it is stopping). */
  left(gatewayId: string, nodeIds?: readonly string[]): Promise<void>;
  /** Each node some gateway other than `gatewayId` heard within the last `withinMs`, with how many ms ago any last did. */
  heardWithin(withinMs: number, gatewayId: string): Promise<Map<string, number>>;
}
