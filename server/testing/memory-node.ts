import WebSocket from 'ws';
import { MemoryChunkBackend, MemoryChunkStore } from '../../shared/memory-chunk-store.ts';
import { NodeAgent, type SocketConstructor } from '../../shared/node-agent.ts';
import { loadJoinSecret } from '../gateway/nodes/join-secret.ts';

/**
 * A storage node in the test's own process, keeping chunks in memory: the real node agent, enrolled
 * with the cluster's join secret, whose storage the test reaches around the store through `backend`
 * to damage or remove chunks behind its back. Started; `stop()` it at the end.
 */
export function startMemoryNode(gatewayUrl: string, dataDir: string, nodeId: string, backend = new MemoryChunkBackend(), capacityBytes = 64 * 1024 * 1024): NodeAgent {
  const agent = new NodeAgent({
    gatewayUrl,
    nodeId,
    token: `token-of-memory-node-${nodeId}`,
    join: loadJoinSecret(dataDir),
    kind: 'disk',
    store: new MemoryChunkStore(capacityBytes, backend),
    WebSocket: WebSocket as unknown as SocketConstructor,
    backoffInitialMs: 50,
    backoffMaxMs: 200,
  });
  agent.start();
  return agent;
}
