import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startGateway } from '../../gateway/start-gateway.ts';
import { PACKAGE_ROOT } from '../../lib/package-root.ts';
import { NodeConfigFile } from '../node-config.ts';
import { NODE_FLAGS } from '../node-flags.ts';
import { enrolLocally } from '../node-enrolment.ts';
import { stopChild } from '../processes.ts';
import type { CommandInput, CommandSpec } from '../command-spec.ts';
import { onShutdown } from '../options.ts';
import { formatBytes } from '../units.ts';
import { ensureWebBuild } from '../web-build.ts';
import { GATEWAY_FLAGS, printWarnings, gatewayConfig, watchGateway } from './gateway.ts';

const BIN = join(PACKAGE_ROOT, 'server', 'cli', 'bin.mjs');
const DEMO_NODES = ['node1', 'node2', 'node3'];
const DEMO_STORAGE = 1e9;

/** What `npm start` runs: a gateway in this process and three local disk nodes as child processes. */
export const demoCommand: CommandSpec = {
  name: 'demo',
  group: 'Running a cluster',
  summary: 'a gateway and 3 local disk nodes of 1 GB, building the web app first when needed (what npm start runs)',
  flags: GATEWAY_FLAGS,
  run: runDemo,
};

async function runDemo({ values, dataDir }: CommandInput): Promise<void> {
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
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'node', 'start', id, '--data', dataDir, '--gateway', gateway.url], {
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
  dashboard   ${await gateway.loginLink()}
              (opens once, logging this browser in; npx shoal login-link makes another)
  admin token ${dataDir}/admin-token    (npx shoal commands here use it; shoal token create makes others)
  invites     npx shoal invite create    (a link another browser opens to join as a node)
  data        ${nodesFile.dataDir}       (${DEMO_NODES.length} disk nodes of ${formatBytes(DEMO_STORAGE)}, ${gateway.config.replicas} replicas per chunk)
Try:
  curl -H "Authorization: Bearer $(cat ${dataDir}/admin-token)" -T big.iso ${gateway.url}/api/files/big.iso
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
