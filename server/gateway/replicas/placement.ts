import type { NodeKind } from '../../../shared/protocol.ts';
import { PartitionTable, type TableMember } from './partition-table.ts';

/** What placement needs to know of a node: a NodeLink, or a simulated node. */
export interface PlacementNode {
  readonly id: string;
  readonly kind: NodeKind;
  readonly capacityBytes: number;
  readonly freeBytes: number;
}

/** A table building slower than this is not rebuilt more often than every BUILD_BUDGET times its build time. */
const CHEAP_BUILD_MS = 50;
const BUILD_BUDGET = 20;
const REMEMBERED_TABLES = 4;

/**
 * A node's weight in the partition table: its capacity, rounded down to a few percent (a disk
 * whose capacity follows its free space keeps its weight, so the table is not rebuilt at every
 * report). A browser tab's capacity is its own claim: it weighs at most as much as the largest disk
 * node, so a tab claiming the moon does not draw every chunk.
 */
export function placementMembers(nodes: readonly PlacementNode[]): TableMember[] {
  const cap = tabCap(nodes);
  return nodes.map((node) => ({ id: node.id, weight: weightOf(node, cap) }));
}

function tabCap(nodes: readonly PlacementNode[]): number {
  let largestDisk = 0;
  for (const node of nodes) if (node.kind === 'disk') largestDisk = Math.max(largestDisk, node.capacityBytes);
  return largestDisk > 0 ? largestDisk : Infinity;
}

function weightOf(node: PlacementNode, tabCap: number): number {
  return quantize(node.kind === 'browser' ? Math.min(node.capacityBytes, tabCap) : node.capacityBytes);
}

/**
 * The capacity kept to its 5 leading bits, a whole number: steps of 3 to 6%, and no floating-point
 * function whose last bit could differ between gateways.
 */
function quantize(bytes: number): number {
  if (!(bytes >= 1)) return 0;
  let step = 2 ** Math.max(0, Math.floor(Math.log2(bytes)) - 4);
  while (bytes / step >= 32) step *= 2;
  while (step > 1 && bytes / step < 16) step /= 2;
  return Math.floor(bytes / step) * step;
}

interface Placed<T> {
  table: PartitionTable;
  /** The node of each table member among the nodes asked about; undefined for one no longer there. */
  byMember: Array<T | undefined>;
}

/**
 * The partition table of the current nodes, built once per set of nodes and weights and shared by
 * uploads, repair and rebalancing. Nodes coming and going one by one (a thousand reconnecting after
 * a gateway restart) would rebuild a large table a thousand times: while a build is expensive, the
 * last table serves until BUILD_BUDGET times its build time has passed, new nodes waiting for the
 * next build and departed ones skipped as ineligible.
 */
class TableCache {
  readonly #tables = new Map<string, PartitionTable>();
  #latest: PartitionTable | null = null;
  #lastBuildMs = 0;
  #lastBuildAt = 0;
  /** The answer to the last call, reused while the same nodes ask again and its table is not stale. */
  #last: { nodes: readonly PlacementNode[]; weights: number[]; replicas: number; placed: Placed<PlacementNode>; stale: boolean } | null = null;

  get<T extends PlacementNode>(nodes: readonly T[], replicas: number): Placed<T> {
    const last = this.#last;
    if (last && !last.stale && last.replicas === replicas && last.nodes.length === nodes.length) {
      const cap = tabCap(nodes);
      if (nodes.every((node, i) => last.nodes[i] === node && last.weights[i] === weightOf(node, cap))) return last.placed as Placed<T>;
    }
    const members = placementMembers(nodes);
    const { table, stale } = this.#table(members, replicas);
    const byId = new Map(nodes.map((node) => [node.id, node]));
    const placed = { table, byMember: table.members.map((member) => byId.get(member.id)) };
    this.#last = { nodes: [...nodes], weights: members.map((m) => m.weight), replicas, placed, stale };
    return placed;
  }

  #table(members: TableMember[], replicas: number): { table: PartitionTable; stale: boolean } {
    const key = `${replicas}\n${members.map((m) => `${m.id}\t${m.weight}`).sort().join('\n')}`;
    const known = this.#tables.get(key);
    if (known) return { table: known, stale: false };
    const now = performance.now();
    if (this.#latest && this.#lastBuildMs > CHEAP_BUILD_MS && now - this.#lastBuildAt < BUILD_BUDGET * this.#lastBuildMs && mostlyCovers(this.#latest, members, replicas)) {
      return { table: this.#latest, stale: true };
    }
    const table = new PartitionTable(members, { replicas });
    this.#lastBuildAt = performance.now();
    this.#lastBuildMs = this.#lastBuildAt - now;
    this.#latest = table;
    this.#tables.set(key, table);
    if (this.#tables.size > REMEMBERED_TABLES) this.#tables.delete(this.#tables.keys().next().value!);
    return { table, stale: false };
  }
}

/** Whether a table of other nodes may stand in: same R, and it lists nine in ten of these nodes. */
function mostlyCovers(table: PartitionTable, members: readonly TableMember[], replicas: number): boolean {
  if (table.replicas !== replicas) return false;
  const listed = new Set(table.members.map((m) => m.id));
  return members.filter((m) => listed.has(m.id)).length >= Math.max(replicas, members.length * 0.9);
}

const tables = new TableCache();

/** The partition table for these nodes and R, with its members mapped back to the nodes. */
export function placementTable<T extends PlacementNode>(nodes: readonly T[], replicas: number): Placed<T> {
  return tables.get(nodes, replicas);
}

export interface TargetOptions<T> {
  /** Nodes that hold the chunk already: they may take it without room for it. */
  holding?: readonly string[];
  /** Nodes not to name at all (holders, nodes that failed the write, nodes suspect for the chunk). */
  skip?: (node: T) => boolean;
  /** Name a disk node too, the best by rank beyond the list if the list has none. */
  disk?: boolean;
}

/**
 * The nodes that could take a chunk of `size` bytes (those with room, or already holding it) in
 * the order of its partition's list: the first `replicas` are where it belongs, the rest spares
 * to try when a write fails. Never fewer than `replicas` while that many could take it.
 */
export function rankTargets<T extends PlacementNode>(hash: string, size: number, nodes: readonly T[], replicas: number, options: TargetOptions<T> = {}): T[] {
  const { table, byMember } = placementTable(nodes, replicas);
  const holding = options.holding ?? [];
  const accept = (m: number): boolean => {
    const node = byMember[m];
    return node !== undefined && !options.skip?.(node) && canTake(node, size, holding.includes(node.id));
  };
  const partition = table.partitionOf(hash);
  const picked: number[] = [];
  table.pick(partition, replicas, accept, picked);
  if (options.disk && !picked.some((m) => byMember[m]!.kind === 'disk')) {
    table.pick(partition, 1, (m) => byMember[m]?.kind === 'disk' && !picked.includes(m) && accept(m), picked);
  }
  return picked.map((m) => byMember[m]!);
}

/** Whether a node may be given a chunk of `size` bytes: it has room, or holds the chunk already. */
export function canTake(node: PlacementNode, size: number, holds: boolean): boolean {
  return holds || node.freeBytes >= size;
}

/**
 * Puts the best disk node first when no disk node holds the chunk yet: every chunk keeps a copy on
 * a disk node while one can take it, so tabs (closed at any moment, and admitted by invite, so
 * maybe lying) never hold all of a chunk's copies in a cluster that has disks.
 */
export function diskFirst<T extends PlacementNode>(ranked: T[], holdsDiskCopy: boolean): T[] {
  const disk = holdsDiskCopy ? -1 : ranked.findIndex((node) => node.kind === 'disk');
  return disk <= 0 ? ranked : [ranked[disk]!, ...ranked.slice(0, disk), ...ranked.slice(disk + 1)];
}
