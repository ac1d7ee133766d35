/**
 * Messages between the gateways of one cluster, for what one gateway sees happen and the others
 * must show or act on. Best effort: a message sent while the link to the others is down may be
 * lost, which `onResync` tells its listeners so they can catch up from the metadata.
 */
/** The longest message a channel carries (PostgreSQL's NOTIFY takes up to 8000 bytes). */
export const MAX_MESSAGE_BYTES = 7900;

export interface ClusterChannel {
  /** Queues `message` (at most MAX_MESSAGE_BYTES) for every gateway, this one included; messages leave in the order sent. Never waits. */
  send(message: string): void;
  onMessage(listener: (message: string) => void): void;
  /** Called after the channel was down and is up again: messages may have been missed meanwhile. */
  onResync(listener: () => void): void;
  close(): Promise<void>;
}
