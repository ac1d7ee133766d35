import type { ChunkKind } from './chunk-store.ts';
import type { ErrorCode } from './errors.ts';
import { ShoalError } from './errors.ts';

/**
 * Node protocol over one WebSocket. Every frame is binary:
 *   u32 big-endian header length | UTF-8 JSON header | payload bytes
 * Chunk bytes only ever travel as payload, never inside the JSON.
 */
/**
 * 2: a node proves its identity by answering a challenge instead of sending its token, and a node
 * the cluster has not enrolled must bring a join credential. 3: a get may ask for a byte range of
 * the stored chunk. A node of an older version is refused with a reason that says to upgrade it:
 * it would answer a range get with the whole chunk.
 */
export const PROTOCOL_VERSION = 3;
export const NODE_WS_PATH = '/ws/node';
/** Where a node with a bulk session fetches the chunks it is to store and posts the chunks it is asked for. */
export const BULK_PATH = '/ws-bulk';

/** A one-time transfer's URL: the session key and the transfer id are both unguessable, and both must match. */
export function bulkUrl(gatewayUrl: string, session: string, transfer: string): string {
  const url = new URL(`${BULK_PATH}/${encodeURIComponent(session)}/${encodeURIComponent(transfer)}`, gatewayUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  return url.href;
}
/** Inventory pages stay well under the header limit: 64-char hashes plus JSON punctuation. */
export const INVENTORY_PAGE_SIZE = 1000;
export const MAX_HEADER_BYTES = 256 * 1024;
/**
 * The largest --chunk-size there may be. A gateway takes frames with chunks up to the larger of its
 * own --chunk-size and the largest its stored files were written with, so chunks written under an
 * earlier, larger setting stay readable.
 */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

export type NodeKind = 'disk' | 'browser';

const NODE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Node ids are short and safe in paths, URLs and logs: letters, digits, '.', '_' and '-'. */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_RE.test(value);
}

/**
 * What a node that links to every gateway asks of each: that the gateway prove it knows the node's
 * verifier, for the host the node dialed and a nonce of the node's. Only the cluster's gateways
 * know verifiers, and a proof for another host is refused by the node, so a stranger the node was
 * sent to can neither pass for a gateway nor relay a real gateway's proof.
 */
export interface GatewayChallenge {
  /** The host (name and port) the node dialed, as in its URL; lowercase. */
  host: string;
  /** 64 hex characters, fresh for each connection. */
  nonce: string;
}

/** A gateway of the cluster, as one gateway tells its nodes of the others. */
export interface GatewayAddress {
  id: string;
  url: string;
}

/** What a node not yet enrolled brings to its first hello. */
export interface JoinRequest {
  /** The cluster's join secret, or an invite token. */
  credential: string;
  /** SHA-256 of the node's secret token: what its later proofs are checked against. */
  verifier: string;
}

export interface HelloMessage {
  type: 'hello';
  nodeId: string;
  kind: NodeKind;
  capacityBytes: number;
  usedBytes: number;
  chunkCount: number;
  cpu?: number;
  version: number;
  join?: JoinRequest;
  /** The cluster this node joined before, if any: a gateway of another cluster refuses it. */
  clusterId?: string;
  /** The node can move chunk bytes over HTTP (BULK_PATH) instead of in frames: browser tabs, whose fetch is faster than their WebSocket. */
  bulk?: boolean;
  /**
   * The node links to every gateway of the cluster: the gateway answers with its own proof in the
   * challenge, checks a proof bound to this host and nonce, and tells the node of the other
   * gateways. Absent from nodes of one link (older ones): they get neither, and full service.
   */
  gateway?: GatewayChallenge;
}
/**
 * Answered with a proof: the HMAC of the nonce under the node's verifier (shared/node-proof.ts).
 * `proof`: the gateway's own, given to a node whose hello brought a GatewayChallenge; the node's
 * proof is then bound to that challenge as well.
 */
export interface ChallengeMessage { type: 'challenge'; nonce: string; proof?: string }
export interface ProofMessage { type: 'proof'; proof: string }
/**
 * `bulk`: given only to a node that offered it in its hello, the session's key for BULK_PATH; a
 * node welcomed without one moves every chunk in frames.
 */
/**
 * `gatewayId` and `gateways` (every gateway of the cluster online now, this one among them): given
 * only to a node whose hello brought a GatewayChallenge.
 */
export interface WelcomeMessage { type: 'welcome'; heartbeatMs: number; clusterId: string; bulk?: string; gatewayId?: string; gateways?: GatewayAddress[] }
/** The gateways online now, sent to nodes that link to every gateway whenever the set changes. */
export interface GatewaysMessage { type: 'gateways'; gateways: GatewayAddress[] }
/** The most gateways a node takes from one list: a gateway that lists more is not believed past them. */
export const MAX_GATEWAYS = 32;
export interface InventoryMessage { type: 'inventory'; hashes: string[]; done: boolean }
/**
 * `kind: 'manifest'`: the node keeps the chunk among its manifests, which list-manifests names.
 * With `transfer`, the frame carries no payload: the node fetches the chunk from
 * bulkUrl(gateway, session, transfer), once, and answers as for any put.
 */
export interface PutMessage { type: 'put'; id: number; hash: string; kind?: ChunkKind; transfer?: string }
/**
 * With `offset` and `length` (both or neither), only those bytes of the stored chunk, clipped to
 * its end, and not verified by the node: the gateway verifies them (each sealed segment's tag).
 */
/**
 * With `transfer`, the node POSTs the bytes to bulkUrl(gateway, session, transfer), which answers
 * the get, and sends no data frame; if that fails, it answers with a data frame as usual.
 */
export interface GetMessage { type: 'get'; id: number; hash: string; offset?: number; length?: number; transfer?: string }
export interface DeleteMessage { type: 'delete'; id: number; hashes: string[] }
/**
 * Asks for the manifests the node holds, in hash order: at most `limit` of those after `after`.
 * Answered with `data` whose payload is their hashes, 64 hex characters each, one after another.
 */
export interface ListManifestsMessage { type: 'list-manifests'; id: number; after?: string; limit: number }
export interface OkMessage { type: 'ok'; id: number }
export interface DataMessage { type: 'data'; id: number }
/** `capacityBytes`: the node's capacity as it stands now (less than in its hello when its disk fills); absent from older nodes. */
export interface StatsMessage { type: 'stats'; usedBytes: number; chunkCount: number; capacityBytes?: number }
/**
 * The node no longer holds these chunks: a scrub found them damaged and dropped them, or, with
 * `missing`, they left its storage behind its back.
 */
export interface CorruptMessage { type: 'corrupt'; hashes: string[]; missing?: boolean }
/** Asks the node to start a scrub pass now rather than at its next interval. */
export interface ScrubMessage { type: 'scrub' }
export interface ErrorMessage { type: 'error'; id?: number; code: ErrorCode; message: string }

export type NodeToGateway = HelloMessage | ProofMessage | InventoryMessage | OkMessage | DataMessage | StatsMessage | CorruptMessage | ErrorMessage;
export type GatewayToNode =
  | ChallengeMessage
  | WelcomeMessage
  | PutMessage
  | GetMessage
  | DeleteMessage
  | ListManifestsMessage
  | ScrubMessage
  | GatewaysMessage
  | ErrorMessage;
export type Message = NodeToGateway | GatewayToNode;
export type MessageType = Message['type'];

export interface Frame<H extends Message = Message> {
  header: H;
  payload: Uint8Array;
}

/** WebSocket close codes the gateway uses to refuse or end a node session. */
export const CLOSE = {
  PROTOCOL_ERROR: 4000,
  BAD_HELLO: 4001,
  /** The join credential is not the cluster's secret nor a valid invite. */
  NOT_ADMITTED: 4002,
  IDENTITY_MISMATCH: 4003,
  /** The node id is unknown to the cluster and the hello brought no join credential. */
  NOT_ENROLLED: 4004,
  REPLACED: 4009,
  REMOVED: 4010,
  SHUTDOWN: 4011,
  /** Node and gateway belong to different clusters; the node tries again, in case the right gateway returns. */
  WRONG_CLUSTER: 4012,
  /** The node dialed a host that is not this gateway's: someone between them may be relaying. */
  MISDIRECTED: 4013,
} as const;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(header: Message, payload: Uint8Array = EMPTY): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  if (json.length > MAX_HEADER_BYTES) {
    throw new ShoalError('BAD_FRAME', `frame header of ${json.length} bytes exceeds ${MAX_HEADER_BYTES}`);
  }
  const frame = new Uint8Array(4 + json.length + payload.length);
  new DataView(frame.buffer).setUint32(0, json.length, false);
  frame.set(json, 4);
  frame.set(payload, 4 + json.length);
  return frame;
}

/**
 * Decodes one frame. The payload is a view into `data`, not a copy, so a 4 MiB chunk is never
 * duplicated on the way through.
 */
export function decodeFrame(data: ArrayBuffer | Uint8Array, maxPayloadBytes = Infinity): Frame {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length < 4) throw new ShoalError('BAD_FRAME', `frame of ${bytes.length} bytes is shorter than its length prefix`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
  if (headerLength > MAX_HEADER_BYTES) throw new ShoalError('BAD_FRAME', `frame header length ${headerLength} exceeds ${MAX_HEADER_BYTES}`);
  if (4 + headerLength > bytes.length) throw new ShoalError('BAD_FRAME', `frame truncated: header needs ${headerLength} bytes, ${bytes.length - 4} present`);
  const payload = bytes.subarray(4 + headerLength);
  if (payload.length > maxPayloadBytes) throw new ShoalError('BAD_FRAME', `frame payload of ${payload.length} bytes exceeds ${maxPayloadBytes}`);
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headerLength)));
  } catch (err) {
    throw new ShoalError('BAD_FRAME', 'frame header is not valid UTF-8 JSON', { cause: err });
  }
  if (typeof header !== 'object' || header === null || typeof (header as { type?: unknown }).type !== 'string') {
    throw new ShoalError('BAD_FRAME', 'frame header has no type');
  }
  return { header: header as Message, payload };
}

/**
 * A payload this large is sent as a WebSocket fragment of its own after its header; a smaller one
 * costs less copied in behind the header than sent as a second fragment.
 */
export const SEPARATE_PAYLOAD_BYTES = 64 * 1024;

/**
 * Decodes a frame that arrived as the fragments of one WebSocket message (`ws` with binaryType
 * 'fragments'). Senders here put the length prefix and header in the first fragment and the
 * payload in the second, and then the payload is handed on as it arrived, never copied into one
 * buffer with its header; any other cut is joined first.
 */
export function decodeFrameParts(parts: Uint8Array[], maxPayloadBytes = Infinity): Frame {
  if (parts.length === 1) return decodeFrame(parts[0]!, maxPayloadBytes);
  const [head, payload] = parts;
  if (parts.length === 2 && head!.length >= 4 && 4 + new DataView(head!.buffer, head!.byteOffset, 4).getUint32(0, false) === head!.length) {
    if (payload!.length > maxPayloadBytes) throw new ShoalError('BAD_FRAME', `frame payload of ${payload!.length} bytes exceeds ${maxPayloadBytes}`);
    return { header: decodeFrame(head!).header, payload: payload! };
  }
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return decodeFrame(joined, maxPayloadBytes);
}
