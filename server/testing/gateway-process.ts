import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShoalClient } from '../../shared/api-client.ts';
import { NODE_FLAGS } from '../cli/node-flags.ts';
import { stopChild } from '../cli/processes.ts';
import { fetchTrusting, type TestCertificates } from './tls-certs.ts';

export const SHOAL_BIN = fileURLToPath(new URL('../cli/bin.mjs', import.meta.url));

export interface GatewayProcessOptions {
  /** `shoal gateway` flags besides --port and --data. */
  args: string[];
  /** Node.js flags, e.g. ['--cpu-prof'] for the bench. */
  execArgv?: string[];
  /** Serve HTTPS and WSS with this certificate; `client` and `fetch` trust its CA. */
  tls?: TestCertificates | null;
  /** Added to the environment, e.g. SHOAL_METADATA. */
  env?: Record<string, string>;
}

/**
 * One `shoal gateway` as a child process on port 0 of a data directory, so that a test can SIGKILL
 * it. Restarted, it takes the port it had, so the nodes and clients that knew it find it again.
 */
export class GatewayProcess {
  readonly dataDir: string;
  readonly options: GatewayProcessOptions;
  url = '';
  /** The S3 API's address, with ['--s3-port', '0'] among the args. */
  s3Url = '';
  /** The admin token the gateway wrote to DATA/admin-token; `client` and `fetch` send it. */
  token = '';
  /** What the running gateway printed on stdout since it started (the first 64 KiB). */
  output = '';
  client!: ShoalClient;
  child: ChildProcess | null = null;
  #port = 0;
  #fetch: typeof fetch = fetch;

  constructor(dataDir: string, options: GatewayProcessOptions) {
    this.dataDir = dataDir;
    this.options = options;
  }

  /** Running: started, and neither killed nor exited since. */
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const { tls, execArgv = [], env = {} } = this.options;
    const args = ['gateway', '--port', String(this.#port), '--data', this.dataDir, ...this.options.args];
    if (tls) args.push('--tls-cert', tls.cert, '--tls-key', tls.key);
    const child = spawn(process.execPath, [...NODE_FLAGS, ...execArgv, SHOAL_BIN, ...args], { env: { ...process.env, ...env, CI: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    this.url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d;
        const match = /listening on (https?:\/\/\S+)/.exec(out);
        if (match) {
          this.s3Url = /S3 API at (https?:\/\/\S+)/.exec(out)?.[1] ?? '';
          child.stdout!.off('data', onData);
          this.output = out;
          // What it prints next (the dashboard's login link) is kept too, up to a bound.
          child.stdout!.on('data', (more: Buffer) => {
            if (this.output.length < 64 * 1024) this.output += more;
          });
          resolve(match[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`gateway exited with ${code} before listening: ${out}`)));
    });
    this.#port = Number(new URL(this.url).port);
    this.token = (await readFile(join(this.dataDir, 'admin-token'), 'utf8')).trim();
    this.#fetch = tls ? fetchTrusting(tls.ca) : fetch;
    this.client = new ShoalClient(this.url, { token: this.token, fetch: this.#fetch });
  }

  /** fetch(`${url}${path}`) (or a whole URL) as the admin: with the Bearer token unless `init` sets Authorization itself. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${this.token}`);
    return this.#fetch(/^https?:/.test(path) ? path : `${this.url}${path}`, { ...init, headers });
  }

  /** Signals the gateway and waits until it has exited; SIGKILL is the crash no code of its own sees. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopChild(this.child, signal);
  }
}
