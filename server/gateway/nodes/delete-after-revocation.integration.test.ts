import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ShoalError } from '../../../shared/errors.ts';
import { INVENTORY_PAGE_SIZE } from '../../../shared/protocol.ts';
import { waitFor } from '../../testing/cluster.ts';
import { ScriptedNode } from '../../testing/scripted-node.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { loadJoinSecret } from './join-secret.ts';

// A delete of copies may wait on a node's link (for its window, or for the page before it) long
// after ReplicaStore checked that this gateway's chunk claims stand. A gateway out of touch with
// the database meanwhile has its claims revoked by another, which may then write fresh copies of
// those chunks to the same nodes and commit files over them: a page leaving after that would take
// acknowledged data. So whether the delete is still allowed is asked again as each page leaves.
test('a page of a delete is not sent once the delete is no longer allowed when its turn comes', { timeout: 60_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-revoked-delete-'));
  let gateway: Gateway | undefined;
  let node: ScriptedNode | undefined;
  try {
    gateway = await startGateway({ port: 0, dataDir, replicas: 1 });
    const pages: string[][] = [];
    let answerFirst!: () => void;
    const firstAnswered = new Promise<void>((resolve) => (answerFirst = resolve));
    node = await ScriptedNode.connect({
      gatewayUrl: gateway.url,
      nodeId: 'n1',
      token: 'the-token-of-n1',
      join: loadJoinSecret(dataDir),
      answer: async (request) => {
        if (request.header.type === 'delete') {
          pages.push(request.header.hashes);
          if (pages.length === 1) await firstAnswered;
        }
        return { type: 'ok' };
      },
    });
    await node.sendInventory([]);
    await waitFor(() => gateway!.registry.writable('n1'), 30_000, 'n1 online');

    let claimsStand = true;
    const hashes = Array.from({ length: INVENTORY_PAGE_SIZE + 1 }, () => randomBytes(32).toString('hex'));
    const deleting = gateway.registry.link('n1')!.delete(hashes, () => {
      if (!claimsStand) throw new ShoalError('GATEWAY_FENCED', 'claims revoked');
    });
    await waitFor(() => pages.length === 1, 30_000, 'the first page reached the node');
    // As when another gateway revoked this one's claims while the first page was out.
    claimsStand = false;
    answerFirst();
    await assert.rejects(deleting, (err: unknown) => err instanceof ShoalError && err.code === 'GATEWAY_FENCED');
    assert.equal(pages.length, 1, 'the second page went out after the delete stopped being allowed');
  } finally {
    await node?.close();
    await gateway?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
