import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/**
 * A real PostgreSQL server for one test file: its own cluster in a temp dir, a unix socket there
 * and TCP on 127.0.0.1 on a free port, gone when stopped. Never a shared system database.
 *
 * fsync, synchronous_commit and full_page_writes are off, and initdb does not sync: this server's
 * data dies with the test, so its durability buys nothing and costs seconds. A production
 * PostgreSQL keeps its defaults; nothing here is how Shoal is meant to be run.
 */
export interface PostgresServer {
  /** postgres://shoal@127.0.0.1:port/postgres */
  readonly url: string;
  /** A new, empty database on this server; its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const USER = 'shoal';
const MIN_VERSION = 15;

/** The directory of initdb and postgres (15 or newer), or null when PostgreSQL is not installed. */
export function postgresBinDir(): string | null {
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .map(Number)
        .filter((v) => v >= MIN_VERSION && existsSync(join(debian, String(v), 'bin', 'postgres')))
        .sort((a, b) => b - a)
    : [];
  if (versions.length > 0) return join(debian, String(versions[0]), 'bin');
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return existsSync(join(dir, 'postgres')) ? dir : null;
  } catch {
    return null;
  }
}

/** Why PostgreSQL tests cannot run here, or null when they can: the one line a skipped suite prints. */
export function postgresUnavailable(): string | null {
  return postgresBinDir() ? null : `PostgreSQL ${MIN_VERSION}+ is not installed (Debian: apt-get install postgresql): skipping the PostgreSQL tests`;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresUnavailable()!);
  const dir = await mkdtemp(join(tmpdir(), 'shoal-pg-'));
  const data = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  await mkdir(socketDir);
  // postgres refuses to run as root: as root, the cluster belongs to the postgres user.
  const owner = process.getuid?.() === 0 ? systemUser('postgres') : undefined;
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chown(socketDir, owner.uid, owner.gid);
  }
  try {
    execFileSync(join(bin, 'initdb'), ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...owner,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  let child: ChildProcess | null = null;
  let port = 0;
  let log = '';
  for (let attempt = 0; child === null; attempt++) {
    port = await freePort();
    const started = spawn(
      join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
        '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
      { stdio: ['ignore', 'ignore', 'pipe'], ...owner },
    );
    started.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
    const url = `postgres://${USER}@127.0.0.1:${port}/postgres`;
    if (await ready(url, started)) child = started;
    else if (attempt >= 2) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`PostgreSQL did not start: ${log}`);
    }
  }

  // A test process that ends without stop() must not leave a server behind; SIGQUIT stops it at once.
  const orphanGuard = () => child!.kill('SIGQUIT');
  process.once('exit', orphanGuard);
  let databases = 0;
  const base = `postgres://${USER}@127.0.0.1:${port}`;
  return {
    url: `${base}/postgres`,
    async createDatabase() {
      const name = `shoal_${++databases}`;
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    async stop() {
      process.off('exit', orphanGuard);
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      // SIGINT is PostgreSQL's fast shutdown: it ends the sessions and exits without waiting for them.
      if (child!.exitCode === null && child!.signalCode === null) child!.kill('SIGINT');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function systemUser(name: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits until the server takes connections; false when it exited first (its port was taken meanwhile). */
async function ready(url: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      await sleep(50);
    }
  }
  child.kill('SIGQUIT');
  return false;
}
