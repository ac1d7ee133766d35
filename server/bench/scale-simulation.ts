import { readFileSync } from 'node:fs';
import { PARTITION_BITS, PartitionTable } from '../gateway/replicas/partition-table.ts';
import { canTake, placementMembers, type PlacementNode } from '../gateway/replicas/placement.ts';

export interface ScaleOptions {
  chunks: number;
  nodes: number;
  /** Nodes failed at once after the placement. */
  fail: number;
  /** Nodes added after the repair. */
  add: number;
  replicas: number;
  seed: number;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const CHUNK = 4 * MiB;
/** Disk sizes drawn with equal chance: a 16-fold spread of capacities. */
const SIZES_GIB = [32, 64, 128, 256, 512];

/** A simulated disk node: what placement reads of a NodeLink, its use kept in the simulation's array. */
class SimNode implements PlacementNode {
  readonly kind = 'disk';
  readonly id: string;
  readonly index: number;
  readonly capacityBytes: number;
  readonly #used: Float64Array;

  constructor(id: string, index: number, capacityBytes: number, used: Float64Array) {
    this.id = id;
    this.index = index;
    this.capacityBytes = capacityBytes;
    this.#used = used;
  }

  get freeBytes(): number {
    return this.capacityBytes - this.#used[this.index]!;
  }
}

/** Wall and CPU seconds since it was made: on a busy machine the CPU figure is the one that holds. */
function stopwatch(): () => { seconds: number; cpuSeconds: number } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const spent = process.cpuUsage(cpu);
    return { seconds: round((performance.now() - wall) / 1000), cpuSeconds: round((spent.user + spent.system) / 1e6) };
  };
}

/** mulberry32: a seeded generator, so every run simulates the same cluster. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Spread {
  /** Used space over capacity, across nodes. */
  minUsedShare: number;
  meanUsedShare: number;
  maxUsedShare: number;
  /** Standard deviation over mean of the used share. */
  cv: number;
  /** The fullest node's share over the mean: 1 is perfect. */
  maxOverMean: number;
}

/**
 * 10,000,000 chunks on 1,000 simulated disk nodes of mixed sizes, placed, repaired and rebalanced
 * by the gateway's own placement (`placementMembers`, `PartitionTable`, its `pick`, `canTake`:
 * what `rankTargets` runs for an upload, a repair and a rebalance, without the cache that spares a
 * gateway rebuilding tables while nodes come and go), with the copies in typed arrays.
 * A chunk's partition is drawn at random, as the top bits of its SHA-256 would be. Failing nodes
 * loses their copies; repair, like `ReplicaStore.restore`, writes only the missing copies to the
 * first nodes the chunk's partition lists that hold none and have room. Rebalancing, like
 * `RepairService` with `rebalance()`, copies each chunk to the R nodes its list now prefers and
 * trims the others.
 */
export function simulateScale(options: ScaleOptions, log: (line: string) => void) {
  const run = stopwatch();
  const { chunks, replicas } = options;
  const rand = random(options.seed);
  const total = options.nodes + options.add;
  const used = new Float64Array(total);
  const nodes = Array.from({ length: total }, (_, i) => new SimNode(`node-${String(i).padStart(5, '0')}`, i, SIZES_GIB[Math.floor(rand() * SIZES_GIB.length)]! * GiB, used));
  const sizes = new Uint32Array(chunks);
  const partitions = new Uint32Array(chunks);
  const copies = new Uint16Array(chunks * replicas);
  for (let c = 0; c < chunks; c++) {
    sizes[c] = rand() < 0.9 ? CHUNK : 4096 + Math.floor(rand() * (CHUNK - 4096));
    partitions[c] = Math.floor(rand() * 2 ** PARTITION_BITS);
  }

  const picked: number[] = [];
  /** The chunk being placed, and the nodes that hold it, read by `accept` without a closure per chunk. */
  let size = 0;
  let holders: number[] = [];
  const table = (live: SimNode[]) => {
    const watch = stopwatch();
    const table = new PartitionTable(placementMembers(live), { replicas });
    const byId = new Map(live.map((node) => [node.id, node.index]));
    const members = table.members.map((member) => byId.get(member.id)!);
    const accept = (m: number) => canTake(nodes[members[m]!]!, size, holders.includes(members[m]!));
    return { table, members, accept, ...watch() };
  };
  /** The first `count` nodes of the chunk's partition that `accept` takes, as node indices. */
  const choose = (placed: ReturnType<typeof table>, chunk: number, count: number, skip: (node: number) => boolean): number[] => {
    picked.length = 0;
    placed.table.pick(partitions[chunk]!, count, (m) => !skip(placed.members[m]!) && placed.accept(m), picked);
    return picked.slice(0, count).map((m) => placed.members[m]!);
  };

  // 1. Placement.
  let live = nodes.slice(0, options.nodes);
  const first = table(live);
  log(`  partition table for ${live.length} nodes built in ${first.seconds} s (${first.cpuSeconds} CPU-s)`);
  let watch = stopwatch();
  for (let c = 0; c < chunks; c++) {
    size = sizes[c]!;
    holders = [];
    const targets = choose(first, c, replicas, () => false);
    if (targets.length < replicas) throw new Error(`chunk ${c} found only ${targets.length} nodes with room: more nodes or fewer chunks`);
    for (let r = 0; r < replicas; r++) {
      copies[c * replicas + r] = targets[r]!;
      used[targets[r]!]! += size;
    }
  }
  const placed = watch();
  const storedBytes = used.reduce((a, b) => a + b, 0);
  const placement = { ...placed, table: { seconds: first.seconds, cpuSeconds: first.cpuSeconds }, storedTiB: round(storedBytes / 2 ** 40), spread: spread(live, used) };
  log(`  ${chunks} chunks (${placement.storedTiB} TiB with copies) placed in ${placement.seconds} s (${placement.cpuSeconds} CPU-s); used share of capacity ${describe(placement.spread)}`);

  // 2. Fail nodes at once; repair writes the copies they held, nothing else.
  const failed = new Set<number>();
  while (failed.size < options.fail) failed.add(Math.floor(rand() * options.nodes));
  const lostBytes = [...failed].reduce((sum, i) => sum + used[i]!, 0);
  watch = stopwatch();
  live = live.filter((node) => !failed.has(node.index));
  const afterFailure = table(live);
  const received = new Float64Array(total);
  const sent = new Float64Array(total);
  let repairBytes = 0;
  let unrecoverableChunks = 0;
  let unrecoverableBytes = 0;
  let stuck = 0;
  for (let c = 0; c < chunks; c++) {
    const base = c * replicas;
    let lost = 0;
    for (let r = 0; r < replicas; r++) if (failed.has(copies[base + r]!)) lost++;
    if (lost === 0) continue;
    size = sizes[c]!;
    if (lost === replicas) {
      unrecoverableChunks++;
      unrecoverableBytes += size * replicas;
      continue;
    }
    holders = [];
    for (let r = 0; r < replicas; r++) if (!failed.has(copies[base + r]!)) holders.push(copies[base + r]!);
    const source = holders[0]!;
    const targets = choose(afterFailure, c, lost, (node) => holders.includes(node));
    if (targets.length < lost) stuck++;
    let next = 0;
    for (let r = 0; r < replicas; r++) {
      if (!failed.has(copies[base + r]!) || next >= targets.length) continue;
      const target = targets[next++]!;
      copies[base + r] = target;
      used[target]! += size;
      received[target]! += size;
      sent[source]! += size;
      repairBytes += size;
    }
  }
  const planned = watch();
  for (const i of failed) used[i] = 0;
  const receivers = live.filter((node) => received[node.index]! > 0);
  const senders = live.filter((node) => sent[node.index]! > 0);
  const repair = {
    failedNodes: options.fail,
    lostTiB: round(lostBytes / 2 ** 40),
    repairTiB: round(repairBytes / 2 ** 40),
    /** Bytes repair wrote over the bytes of lost copies it could restore: 1 is the least possible. */
    movedOverLost: Math.round((repairBytes / (lostBytes - unrecoverableBytes)) * 10000) / 10000,
    unrecoverableChunks,
    stuckChunks: stuck,
    receivingNodes: receivers.length,
    sendingNodes: senders.length,
    maxReceivedGiB: round(Math.max(...receivers.map((node) => received[node.index]!)) / GiB),
    meanReceivedGiB: round(repairBytes / receivers.length / GiB),
    plan: planned,
    table: { seconds: afterFailure.seconds, cpuSeconds: afterFailure.cpuSeconds },
  };
  log(
    `  ${options.fail} nodes failed: ${repair.lostTiB} TiB of copies lost; repair writes ${repair.repairTiB} TiB (${repair.movedOverLost} of what it can restore) ` +
      `from ${repair.sendingNodes} nodes to ${repair.receivingNodes} (at most ${repair.maxReceivedGiB} GiB each, mean ${repair.meanReceivedGiB}); ` +
      `${unrecoverableChunks} chunks had every copy on the failed nodes; planned in ${planned.seconds} s (${planned.cpuSeconds} CPU-s, the table ${afterFailure.cpuSeconds} of them)`,
  );

  // 3. Add nodes; rebalancing moves copies to the nodes each chunk's partition now prefers.
  const stored = used.reduce((a, b) => a + b, 0);
  const added = nodes.slice(options.nodes);
  live = [...live, ...added];
  watch = stopwatch();
  const grown = table(live);
  const newCapacity = added.reduce((sum, node) => sum + node.capacityBytes, 0);
  const allCapacity = live.reduce((sum, node) => sum + node.capacityBytes, 0);
  let movedBytes = 0;
  let movedToNew = 0;
  const isNew = (node: number) => node >= options.nodes;
  for (let c = 0; c < chunks; c++) {
    const base = c * replicas;
    holders = [];
    for (let r = 0; r < replicas; r++) if (!failed.has(copies[base + r]!)) holders.push(copies[base + r]!);
    if (holders.length < replicas) continue;
    size = sizes[c]!;
    const ideal = choose(grown, c, replicas, () => false);
    const surplus = holders.filter((node) => !ideal.includes(node));
    let s = 0;
    for (const target of ideal) {
      if (holders.includes(target)) continue;
      const from = surplus[s++]!;
      copies[base + holders.indexOf(from)] = target;
      used[target]! += size;
      used[from]! -= size;
      movedBytes += size;
      if (isNew(target)) movedToNew += size;
    }
  }
  const rebalanced = watch();
  const idealMove = (stored * newCapacity) / allCapacity;
  const rebalance = {
    addedNodes: options.add,
    movedTiB: round(movedBytes / 2 ** 40),
    idealTiB: round(idealMove / 2 ** 40),
    movedOverIdeal: Math.round((movedBytes / idealMove) * 1000) / 1000,
    movedOntoNewShare: Math.round((movedToNew / movedBytes) * 1000) / 1000,
    plan: rebalanced,
    table: { seconds: grown.seconds, cpuSeconds: grown.cpuSeconds },
    spread: spread(live, used),
  };
  log(
    `  ${options.add} nodes added: rebalancing moves ${rebalance.movedTiB} TiB (ideal ${rebalance.idealTiB} TiB, the new nodes' share: ${rebalance.movedOverIdeal}x), ` +
      `${Math.round(rebalance.movedOntoNewShare * 100)}% of it onto the new nodes; planned in ${rebalanced.seconds} s (${rebalanced.cpuSeconds} CPU-s); used share after ${describe(rebalance.spread)}`,
  );
  return {
    chunks,
    nodes: options.nodes,
    replicas,
    placement,
    repair,
    rebalance,
    run: run(),
    peakRssMB: Math.round(peakRssMB()),
  };
}

function spread(live: SimNode[], used: Float64Array): Spread {
  const shares = live.map((node) => used[node.index]! / node.capacityBytes);
  const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
  const sd = Math.sqrt(shares.reduce((a, b) => a + (b - mean) ** 2, 0) / shares.length);
  const max = Math.max(...shares);
  return { minUsedShare: round3(Math.min(...shares)), meanUsedShare: round3(mean), maxUsedShare: round3(max), cv: round3(sd / mean), maxOverMean: round3(max / mean) };
}

function describe(s: Spread): string {
  return `${s.minUsedShare}..${s.maxUsedShare} (mean ${s.meanUsedShare}, sd/mean ${s.cv}, fullest/mean ${s.maxOverMean})`;
}

function peakRssMB(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

const round = (n: number) => Math.round(n * 100) / 100;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
