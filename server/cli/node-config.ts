import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rmdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import { ShoalError } from '../../shared/errors.ts';
import { isNodeId } from '../../shared/protocol.ts';
import { TAB_ID_PREFIX } from '../gateway/nodes/admission.ts';

export interface NodeConfig {
  id: string;
  /** The node's secret: it answers the gateway's challenges with it, and never sends it. */
  token: string;
  /** A join credential for a gateway on another machine, until the node has enrolled with it. */
  join?: string;
  gateway: string;
  dir: string;
  capacityBytes: number;
  cpu: number;
  createdAt: string;
  /** `removing`: `shoal node remove` asks the process running the node to stop it and forget it. */
  status: 'created' | 'started' | 'stopped' | 'removing';
  pid?: number;
}


/** The nodes this machine runs, kept in DATA/nodes.json like the prototype's node registry. */
export class NodeConfigFile {
  readonly path: string;
  readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = resolve(dataDir);
    this.path = join(this.dataDir, 'nodes.json');
  }

  async list(): Promise<NodeConfig[]> {
    try {
      return (JSON.parse(await readFile(this.path, 'utf8')) as { nodes: NodeConfig[] }).nodes;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ShoalError('INTERNAL', `cannot read ${this.path}: ${(err as Error).message}`);
    }
  }

  async get(id: string): Promise<NodeConfig> {
    const node = (await this.list()).find((n) => n.id === id);
    if (!node) throw new ShoalError('NODE_NOT_FOUND', `no node ${JSON.stringify(id)} in ${this.path} (create it with: shoal node create ${id})`);
    return node;
  }

  async create(input: { id: string; gateway: string; capacityBytes: number; cpu: number; dir?: string; join?: string }): Promise<NodeConfig> {
    if (!isNodeId(input.id)) throw new ShoalError('BAD_REQUEST', `node id ${JSON.stringify(input.id)} must be letters, digits, '.', '_' or '-' (up to 64)`);
    if (input.id.startsWith(TAB_ID_PREFIX)) throw new ShoalError('BAD_REQUEST', `node ids starting with ${TAB_ID_PREFIX} belong to browser tabs`);
    if (!(input.capacityBytes > 0)) throw new ShoalError('BAD_REQUEST', 'storage must be more than 0 bytes');
    if (!(input.cpu > 0)) throw new ShoalError('BAD_REQUEST', 'cpu must be a positive number');
    const node: NodeConfig = {
      id: input.id,
      token: randomBytes(24).toString('base64url'),
      gateway: input.gateway,
      dir: resolve(input.dir ?? join(this.dataDir, 'nodes', input.id)),
      capacityBytes: input.capacityBytes,
      cpu: input.cpu,
      createdAt: new Date().toISOString(),
      status: 'created',
      join: input.join,
    };
    await this.#modify((nodes) => {
      if (nodes.some((n) => n.id === input.id)) throw new ShoalError('CONFLICT', `node ${input.id} already exists in ${this.path}`);
      return [...nodes, node];
    });
    return node;
  }

  async update(id: string, change: Partial<NodeConfig>): Promise<void> {
    await this.#modify((nodes) => nodes.map((n) => (n.id === id ? { ...n, ...change } : n)));
  }

  /** Moves a node from one status to another in one locked step; false when it was not in `from`. */
  async transition(id: string, from: NodeConfig['status'], to: NodeConfig['status']): Promise<boolean> {
    let moved = false;
    await this.#modify((nodes) =>
      nodes.map((n) => {
        if (n.id !== id || n.status !== from) return n;
        moved = true;
        return { ...n, status: to };
      }),
    );
    return moved;
  }

  async remove(id: string): Promise<NodeConfig> {
    const node = await this.get(id);
    await this.#modify((nodes) => nodes.filter((n) => n.id !== id));
    return node;
  }

  /**
   * Several node processes update the file at once (the demo starts three), so each change is a
   * read-modify-write under a lock directory, and lands by rename so a crash never leaves half a file.
   */
  async #modify(change: (nodes: NodeConfig[]) => NodeConfig[]): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    const lock = `${this.path}.lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (attempt === 200) throw new ShoalError('CONFLICT', `${lock} has been held for 10 s: remove it if no shoal command is running`);
        await sleep(50);
      }
    }
    try {
      const nodes = change(await this.list());
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify({ nodes }, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, this.path);
    } finally {
      await rmdir(lock);
    }
  }
}
