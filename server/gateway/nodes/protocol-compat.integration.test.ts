import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkStore } from '../../../shared/memory-chunk-store.ts';
import { NodeAgent, type SocketConstructor } from '../../../shared/node-agent.ts';
import { sha256Hex } from '../../sha256.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { loadJoinSecret } from './join-secret.ts';

/**
 * The release before nodes linked to every gateway: its gateway and its node speak protocol 3 and
 * know neither gateway proofs nor gateway lists. Each must get full service from the other side of
 * this release, on its one link.
 */
const PREVIOUS_RELEASE = '1aca78309b79234129fe229265ba9e02c2abe9ba';
const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/** The previous release's server and shared code, unpacked from git into `root`, runnable beside this one's. */
async function previousRelease(root: string): Promise<(file: string) => Promise<unknown>> {
  const release = join(root, 'previous');
  await mkdir(release);
  execSync(`git -C ${JSON.stringify(REPO)} archive ${PREVIOUS_RELEASE} server shared package.json | tar -x -C ${JSON.stringify(release)}`);
  await symlink(join(REPO, 'node_modules'), join(release, 'node_modules'));
  return (file) => import(pathToFileURL(join(release, file)).href);
}

type Agent = { start(): void; stop(): void };
type StartGateway = (config: object) => Promise<Gateway>;

/** A shallow clone lacks the previous release: the one case where this suite cannot run, said in one line. */
function previousReleaseMissing(): string | false {
  try {
    execSync(`git -C ${JSON.stringify(REPO)} cat-file -e ${PREVIOUS_RELEASE}^{commit}`, { stdio: 'ignore' });
    return false;
  } catch {
    return `commit ${PREVIOUS_RELEASE.slice(0, 7)} (the previous release) is not in this clone`;
  }
}

describe('nodes and gateways of this release and the previous one', { skip: previousReleaseMissing() }, () => {
  let root: string;
  let previous: (file: string) => Promise<unknown>;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shoal-compat-'));
    previous = await previousRelease(root);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /**
   * A gateway and a node, each of the release given, in a data directory of their own; a 300 kB
   * file through them and back. `then` may replace the gateway (on the same port): the one it
   * returns is read from again and stopped at the end.
   */
  async function served(
    start: StartGateway,
    Node: new (options: object) => Agent,
    dir: string,
    check: (gateway: Gateway, agent: Agent) => void,
    then: (gateway: Gateway) => Promise<Gateway> = async (gateway) => gateway,
  ): Promise<void> {
    let gateway = await start({ port: 0, dataDir: join(root, dir), replicas: 1 });
    const agent = new Node({
      gatewayUrl: gateway.url,
      nodeId: 'n1',
      token: 'token-of-node-n1-xyz',
      join: loadJoinSecret(join(root, dir)),
      kind: 'disk',
      store: new MemoryChunkStore(64 * 1024 * 1024),
      WebSocket: WebSocket as unknown as SocketConstructor,
      backoffInitialMs: 50,
      backoffMaxMs: 200,
    });
    const bytes = randomBytesSeeded(300_000, 5);
    const readBack = async (): Promise<string> => {
      const res = await fetch(new ShoalClient(gateway.url).fileUrl('round-trip.bin'), { headers: { authorization: `Bearer ${gateway.adminToken}` } });
      return sha256Hex(new Uint8Array(await res.arrayBuffer()));
    };
    try {
      agent.start();
      await waitFor(() => gateway.registry.readable('n1'), 30_000, 'the gateway serves the node');
      check(gateway, agent);
      await new ShoalClient(gateway.url, { token: gateway.adminToken }).upload('round-trip.bin', bytes);
      assert.equal(await readBack(), sha256Hex(bytes));
      gateway = await then(gateway);
      assert.equal(await readBack(), sha256Hex(bytes));
    } finally {
      agent.stop();
      await gateway.close();
    }
  }

  test("a node of this release is served by the previous release's gateway on its one link, unproven and told of no other gateway; then by this release's on that gateway's data", async () => {
    const { startGateway: startPrevious } = (await previous('server/gateway/start-gateway.ts')) as { startGateway: StartGateway };
    await served(
      startPrevious,
      NodeAgent as unknown as new (options: object) => Agent,
      'old-gateway',
      (gateway, agent) => {
        assert.deepEqual((agent as NodeAgent).gateways(), [{ url: new URL('/ws/node', gateway.url.replace(/^http/, 'ws')).href, gatewayId: null, online: true }]);
      },
      async (old) => {
        await old.close();
        const upgraded = await startGateway({ port: old.port, dataDir: old.config.dataDir, replicas: 1 });
        await waitFor(() => upgraded.registry.link('n1')?.linksEveryGateway === true && upgraded.registry.readable('n1'), 30_000, 'the node is back, linked as to every gateway');
        return upgraded;
      },
    );
  });

  test("a node of the previous release is served by this release's gateway on its one link, and told of no other gateway", async () => {
    const { NodeAgent: PreviousAgent } = (await previous('shared/node-agent.ts')) as { NodeAgent: new (options: object) => Agent };
    await served(startGateway, PreviousAgent, 'old-node', (gateway) => {
      assert.equal(gateway.registry.link('n1')?.linksEveryGateway, false);
    });
  });
});
