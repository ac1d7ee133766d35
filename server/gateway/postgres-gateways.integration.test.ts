import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GatewayInfo, ShoalEvent } from '../../shared/api-types.ts';
import { FAST_REPAIR, randomBytesSeeded, waitFor } from '../testing/cluster.ts';
import type { GatewayProcess } from '../testing/gateway-process.ts';
import { clusterOnPostgres, describeWithPostgres } from '../testing/postgres-suite.ts';
import { rawUpload } from '../testing/raw-upload.ts';
import { sha256Hex } from '../sha256.ts';

describeWithPostgres('three gateways over one PostgreSQL database', (postgres) => {
  const cluster = clusterOnPostgres(postgres, { nodes: 3, gateways: 3, gatewayArgs: FAST_REPAIR });

  const bytesOf = async (gateway: GatewayProcess, name: string): Promise<string> =>
    sha256Hex(new Uint8Array(await (await gateway.client.download(name)).arrayBuffer()));

  test('a file uploaded through one gateway downloads byte-identical through every other, and each shows the same cluster', { timeout: 120_000 }, async () => {
    // Every other gateway's event stream hears of the first upload, as a dashboard there would.
    const heard = new Set<GatewayProcess>();
    const streams = await Promise.all(
      cluster().gateways.slice(1).map(
        (gateway) =>
          new Promise<AbortController>((opened) => {
            const stream = new AbortController();
            const onEvent = (event: ShoalEvent) => event.type === 'file.added' && event.file.name === 'through-0.bin' && heard.add(gateway);
            gateway.client.events(onEvent, { signal: stream.signal, onOpen: () => opened(stream) }).catch(() => {});
          }),
      ),
    );
    const sent = new Map<string, string>();
    for (const [i, gateway] of cluster().gateways.entries()) {
      const data = randomBytesSeeded(300_000 + i, 100 + i);
      await gateway.client.upload(`through-${i}.bin`, data);
      sent.set(`through-${i}.bin`, sha256Hex(data));
    }
    await waitFor(() => heard.size === streams.length, 30_000, 'the upload heard on every other gateway\'s event stream');
    for (const stream of streams) stream.abort();
    for (const gateway of cluster().gateways) {
      for (const [name, digest] of sent) assert.equal(await bytesOf(gateway, name), digest, `${name} through ${gateway.url}`);
      assert.deepEqual((await gateway.client.list()).map((f) => f.name), [...sent.keys()]);
      await waitFor(async () => (await gateway.client.nodes()).filter((n) => n.status === 'online').length === 3, 30_000, `3 nodes online at ${gateway.url}`);
    }
    const views = await Promise.all(cluster().gateways.map((gateway) => gateway.client.gateways()));
    for (const [i, view] of views.entries()) {
      assert.deepEqual(view.map((g) => g.status), ['online', 'online', 'online']);
      assert.deepEqual(view.filter((g) => g.self).map((g) => g.url), [cluster().gateways[i]!.url]);
      assert.equal(view.filter((g) => g.repairer).length, 1, 'one repairer');
    }
  });

  test('kill -9 of the repairer: the others go on, every acknowledged file stays readable, nothing half-written is listed, the lease moves, its row shows offline', { timeout: 180_000 }, async () => {
    const repairerUrl = (await cluster().gateways[0]!.client.gateways()).find((g) => g.repairer)!.url;
    const victim = cluster().gateways.find((gateway) => gateway.url === repairerUrl)!;
    const survivors = cluster().gateways.filter((gateway) => gateway !== victim);
    const victimId = (await victim.client.gateways()).find((g) => g.self)!.id;

    // A large upload through the victim, its body stopped partway: its first chunk may be on nodes, its file must never be listed.
    const halfName = 'half-written.bin';
    let halfSent = 0;
    const half = rawUpload(victim.url, victim.token, halfName, { 'content-length': String(8 * 1024 * 1024) }, async (write) => {
      const piece = randomBytesSeeded(1024 * 1024, 9);
      while (halfSent < 5 && (await write(piece))) halfSent++;
      await new Promise(() => {});
    }).catch(() => null);

    const sent = new Map<string, string>();
    const acked = new Map<string, string>();
    const failures: string[] = [];
    let killed = false;
    let running = true;
    const ackedAfterKill = new Map<GatewayProcess, number>(survivors.map((gateway) => [gateway, 0]));
    const writers = cluster().gateways.map(async (gateway, g) => {
      for (let n = 0; running && !(killed && gateway === victim); n++) {
        const name = `load/${g}-${n}.bin`;
        const data = randomBytesSeeded(64 * 1024 + ((n * 37_000) % 400_000), g * 1000 + n);
        sent.set(name, sha256Hex(data));
        try {
          await gateway.client.upload(name, data);
          acked.set(name, sent.get(name)!);
          // A read of some acknowledged file, uploaded through any gateway.
          const [other, digest] = [...acked][(n * 7) % acked.size]!;
          assert.equal(await bytesOf(gateway, other), digest, `${other} read through ${gateway.url}`);
          if (killed) ackedAfterKill.set(gateway, ackedAfterKill.get(gateway)! + 1);
        } catch (err) {
          if (gateway !== victim) failures.push(`${name} through ${gateway.url}: ${(err as Error).message}`);
        }
      }
    });

    const ackedThrough = (g: number) => [...acked.keys()].filter((name) => name.startsWith(`load/${g}-`)).length;
    await waitFor(() => cluster().gateways.every((_, g) => ackedThrough(g) >= 2) && halfSent >= 5, 30_000, 'uploads through every gateway, and part of a large one');
    await victim.stop('SIGKILL');
    killed = true;
    await waitFor(() => [...ackedAfterKill.values()].every((count) => count >= 3), 30_000, 'uploads through the survivors after the kill');
    running = false;
    await Promise.all(writers);
    await half;
    assert.deepEqual(failures, [], 'uploads and downloads through the survivors never failed');

    const view = (gateway: GatewayProcess): Promise<GatewayInfo[]> => gateway.client.gateways();
    await waitFor(async () => (await view(survivors[0]!)).find((g) => g.id === victimId)?.status === 'offline', 30_000, "the dead gateway's row offline");
    const leaseMoved = async (): Promise<boolean> =>
      (await Promise.all(survivors.map(view))).every((gateways) => {
        const repairers = gateways.filter((g) => g.repairer);
        return repairers.length === 1 && repairers[0]!.id !== victimId;
      });
    await waitFor(leaseMoved, 30_000, 'the lease taken by a survivor, as every survivor sees it');

    for (const gateway of survivors) {
      const listed = (await gateway.client.list()).map((f) => f.name);
      assert.ok(!listed.includes(halfName), `${halfName} is listed through ${gateway.url}`);
      for (const name of acked.keys()) assert.ok(listed.includes(name), `${name} missing from ${gateway.url}`);
      // Also an upload the kill cut off after its commit: listed, so whole.
      for (const name of listed.filter((n) => n.startsWith('load/'))) assert.equal(await bytesOf(gateway, name), sent.get(name), `${name} through ${gateway.url}`);
    }

    await victim.start();
    await waitFor(async () => (await view(survivors[0]!)).find((g) => g.id === victimId)?.status === 'online', 30_000, 'the restarted gateway online');
    const [last, digest] = [...acked].at(-1)!;
    // The nodes come back to it after their reconnection backoff, which grew while it was down.
    await waitFor(async () => (await bytesOf(victim, last)) === digest, 40_000, `${last} through the restarted gateway`);
  });
});
