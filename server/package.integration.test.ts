import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestCluster } from './testing/cluster.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** What `npm pack` builds from; copied so the build never touches the checkout's dist/, which other tests serve. */
const SOURCES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'shared', 'server', 'web'];

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NODE_OPTIONS: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A user's program: plain ESM JavaScript, no TypeScript loader, importing the installed package. */
const USER_PROGRAM = `
import { readFile, writeFile } from 'node:fs/promises';
import { ShoalClient, ShoalError } from 'shoal';
import { downloadFile, uploadFile } from 'shoal/node';

const client = new ShoalClient(process.env.GATEWAY, { token: process.env.TOKEN });
const stop = new AbortController();
const events = [];
let live;
const following = client.events((e) => events.push(\`\${e.type}:\${e.file?.name ?? e.name ?? ''}\`), { signal: stop.signal, onOpen: () => live() });
await new Promise((resolve) => (live = resolve));
const bytes = new Uint8Array(5 * 1024 * 1024 + 11).map((_, i) => (i * 7 + (i >> 12)) & 255);
let sent = 0;
const stored = await client.upload('pkg/bytes.bin', bytes, { onProgress: (n) => (sent = n) });

const pieces = [];
let received = 0;
const got = await client.downloadTo('pkg/bytes.bin', new WritableStream({ write: (c) => void pieces.push(c) }), { onProgress: (n) => (received = n) });
const back = Buffer.concat(pieces);

await writeFile('in.bin', bytes);
const fromFile = await uploadFile(client, 'in.bin', { name: 'pkg/from-file.bin' });
const written = await downloadFile(client, 'pkg/from-file.bin', 'out/');

const listed = (await client.list()).map((f) => f.name).sort();
await client.delete('pkg/bytes.bin');
const missing = await client.downloadTo('pkg/bytes.bin', new WritableStream()).catch((e) => e instanceof ShoalError && e.code);
for (let i = 0; i < 600 && !events.includes('file.removed:pkg/bytes.bin'); i++) await new Promise((r) => setTimeout(r, 50));
stop.abort();
await following;
console.log(JSON.stringify({
  sha256: stored.sha256, sent, received, gotSha256: got.sha256, same: Buffer.from(bytes).equals(back),
  fileSha256: fromFile.sha256, writtenPath: written.path, writtenSame: Buffer.from(bytes).equals(await readFile(written.path)),
  listed, missing, events: events.filter((e) => e.startsWith('file.')),
}));
`;

describe('the npm package', { timeout: 300_000 }, () => {
  let work: string;
  let cluster: TestCluster;
  let project: string;
  let tarball: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'shoal-pack-'));
    const copy = join(work, 'source');
    await mkdir(copy);
    for (const entry of SOURCES) await cp(join(REPO, entry), join(copy, entry), { recursive: true });
    await symlink(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const packed = await run('npm', ['pack', '--pack-destination', work], copy);
    assert.equal(packed.code, 0, `npm pack failed:\n${packed.stdout}\n${packed.stderr}`);
    tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);

    project = join(work, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
    // Install scripts are skipped: they would compile better-sqlite3, which only the gateway needs and this test does not run from the package.
    const installed = await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], project);
    assert.equal(installed.code, 0, `npm install failed:\n${installed.stderr}`);
    cluster = await TestCluster.start({ nodes: 2 });
  });
  after(async () => {
    await cluster?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the tarball holds compiled JavaScript with types, the built web app, and no sources, tests or CI files', async () => {
    const listing = await run('tar', ['-tzf', tarball], work);
    const files = listing.stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    assert.ok(files.includes('dist/shared/api-client.js') && files.includes('dist/shared/api-client.d.ts'));
    assert.ok(files.includes('dist/server/client/node.js') && files.includes('dist/server/client/node.d.ts'));
    assert.ok(files.includes('server/cli/bin.mjs') && files.includes('dist/server/cli/shoal.js'));
    assert.ok(files.includes('dist/web/index.html'), 'the dashboard ships built');
    assert.deepEqual(files.filter((f) => /(?<!\.d)\.ts$|\.test\.|\.spec\.|^\.ci|^e2e\/|testing\/|bench\/|chaos\//.test(f)), []);
    assert.ok(!(await readdir(join(project, 'node_modules'))).includes('tsx'), 'no TypeScript loader is installed');
  });

  test('a plain .mjs uploads and downloads through ShoalClient and shoal/node, verified, with progress', async () => {
    await writeFile(join(project, 'use-shoal.mjs'), USER_PROGRAM);
    const result = await run(process.execPath, ['use-shoal.mjs'], project, { GATEWAY: cluster.url, TOKEN: cluster.token });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    const size = 5 * 1024 * 1024 + 11;
    assert.equal(out.sent, size);
    assert.equal(out.received, size);
    assert.equal(out.gotSha256, out.sha256);
    assert.equal(out.same, true);
    assert.equal(out.fileSha256, out.sha256);
    assert.equal(out.writtenPath, join('out', 'from-file.bin'));
    assert.equal(out.writtenSame, true);
    assert.deepEqual(out.listed, ['pkg/bytes.bin', 'pkg/from-file.bin']);
    assert.equal(out.missing, 'FILE_NOT_FOUND');
    assert.deepEqual(out.events, ['file.added:pkg/bytes.bin', 'file.added:pkg/from-file.bin', 'file.removed:pkg/bytes.bin']);
  });

  test('npx shoal runs the compiled CLI: help, and a client command against the gateway', async () => {
    const help = await run('npx', ['--no-install', 'shoal', '--help'], project);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: shoal <command> \[flags\]$/m);
    assert.match(help.stdout, /^ {2}shoal upload <files\.\.\.>/m);
    const ls = await run('npx', ['--no-install', 'shoal', 'ls', '--json', '--gateway', cluster.url, '--token', cluster.token], project);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(JSON.parse(ls.stdout).map((f: { name: string }) => f.name), ['pkg/from-file.bin']);
  });
});
