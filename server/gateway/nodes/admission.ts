import { timingSafeEqual } from 'node:crypto';
import type { HelloMessage, JoinRequest } from '../../../shared/protocol.ts';
import { sha256Hex } from '../../sha256.ts';
import type { MetadataStore, NodeRecord } from '../metadata/metadata-store.ts';

/** Browser tabs name themselves `tab-…`; an invite may enrol only such a node, never take a disk node's id. */
export const TAB_ID_PREFIX = 'tab-';

export type EnrolResult = 'enrolled' | 'not-admitted' | 'taken';

/**
 * Who may become a node: the holder of the cluster's join secret, any id; the holder of a valid
 * invite, a browser tab of a fresh `tab-…` id. Enrolment records the node's verifier, against
 * which every later connection's proof is checked.
 */
export class Admission {
  readonly #metadata: MetadataStore;
  readonly #joinSecret: Buffer;

  constructor(metadata: MetadataStore, joinSecret: string) {
    this.#metadata = metadata;
    this.#joinSecret = Buffer.from(joinSecret);
  }

  async enrol(hello: HelloMessage, join: JoinRequest): Promise<EnrolResult> {
    const now = new Date().toISOString();
    const record: NodeRecord = {
      id: hello.nodeId,
      kind: hello.kind,
      capacityBytes: hello.capacityBytes,
      usedBytes: hello.usedBytes,
      chunkCount: hello.chunkCount,
      cpu: hello.cpu ?? null,
      tokenHash: join.verifier,
      createdAt: now,
      lastSeenAt: now,
      draining: false,
      quarantine: null,
    };
    if (this.#isJoinSecret(join.credential)) return (await this.#metadata.enrollNode(record)) ? 'enrolled' : 'taken';
    if (hello.kind !== 'browser' || !hello.nodeId.startsWith(TAB_ID_PREFIX)) return 'not-admitted';
    const result = await this.#metadata.enrollWithInvite(sha256Hex(join.credential), record, now);
    return result === 'invalid' ? 'not-admitted' : result;
  }

  #isJoinSecret(credential: string): boolean {
    const given = Buffer.from(credential);
    return given.length === this.#joinSecret.length && timingSafeEqual(given, this.#joinSecret);
  }
}
