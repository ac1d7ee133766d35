import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../../gateway/start-gateway.ts';
import { NodeConfigFile } from '../node-config.ts';
import { enrolLocally } from '../node-enrolment.ts';
import { stopChild } from '../processes.ts';
import { onShutdown, parse } from '../options.ts';
import { formatBytes } from '../units.ts';
import { ensureWebBuild } from '../web-build.ts';
import { GATEWAY_OPTIONS, printWarnings, gatewayConfig, watchGateway } from './gateway.ts';

const BIN = fileURLToPath(new URL('../bin.mjs', import.meta.url));
const DEMO_NODES = ['node1', 'node2', 'node3'];
const DEMO_STORAGE = 1e9;

/** What `npm start` runs: a gateway in this process and three local disk nodes as child processes. */
export async function demoCommand(args: string[]): Promise<void> {
  const { values, dataDir } = parse(args, GATEWAY_OPTIONS);
  if ((await ensureWebBuild(console.log)) === 'unavailable') console.log('the web app is not built and Vite is not installed: the dashboard is a placeholder');
  const gateway = await startGateway(gatewayConfig(values, dataDir));
  const nodesFile = new NodeConfigFile(dataDir);
  const existing = new Set((await nodesFile.list()).map((n) => n.id));
  for (const id of DEMO_NODES) {
    if (!existing.has(id)) await enrolLocally(dataDir, await nodesFile.create({ id, gateway: gateway.url, capacityBytes: DEMO_STORAGE, cpu: 2 }));
  }
  const status = watchGateway(gateway);
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  for (const id of DEMO_NODES) {
    const child = spawn(process.execPath, [BIN, 'node', 'start', id, '--data', dataDir, '--gateway', gateway.url], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, CI: '1' },
    });
    children.set(id, child);
    child.on('exit', (code, signal) => {
      if (!stopping) status.log(`${id} process exited (${signal ?? `code ${code}`}); restart it with: npx shoal node start ${id}`);
    });
  }

  console.log(`
Shoal is running: ${gateway.url}
  dashboard   ${gateway.url}/            ("Add this browser as a node" there)
  invites     npx shoal invite create    (a link another browser opens to join as a node)
  data        ${nodesFile.dataDir}       (${DEMO_NODES.length} disk nodes of ${formatBytes(DEMO_STORAGE)}, ${gateway.config.replicas} replicas per chunk)
Try:
  curl -T big.iso ${gateway.url}/api/files/big.iso
  curl -o back.iso ${gateway.url}/api/files/big.iso
  npx shoal upload ./photos/*.jpg ; npx shoal ls ; npx shoal status
  npx shoal node create node4 --storage 1GB --cpu 2 --gateway ${gateway.url} && npx shoal node start node4
Ctrl-C stops everything.
`);
  status.start();
  const stop = async (): Promise<void> => {
    stopping = true;
    status.stop();
    await Promise.all([...children.values()].map((child) => stopChild(child)));
    await gateway.close();
  };
  onShutdown(stop);
  printWarnings(gateway);
}
