import { createHash } from 'node:crypto';
import type { NodeLink } from '../nodes/node-link.ts';

export interface PlacementCandidate {
  id: string;
  /** Relative share of chunks this node should receive; its capacity. */
  weight: number;
}

/**
 * Weighted rendezvous hashing: every node draws a score for the key and the highest scores win.
 * Using -weight / ln(u) makes a node's chance of ranking first proportional to its weight, and
 * adding or removing a node only moves the keys that node wins or loses.
 */
export function rankNodes<T extends PlacementCandidate>(key: string, nodes: readonly T[]): T[] {
  return nodes
    .filter((node) => node.weight > 0)
    .map((node) => ({ node, score: -node.weight / Math.log(unitHash(`${node.id}\u0000${key}`)) }))
    .sort((a, b) => b.score - a.score || (a.node.id < b.node.id ? -1 : 1))
    .map((entry) => entry.node);
}

/**
 * The writable nodes that could hold a chunk of `size` bytes (those with room, or already holding
 * it), best first by rendezvous rank weighted by capacity. A browser tab's capacity is its own
 * claim: it weighs at most as much as the largest disk node, so a tab claiming the moon does not
 * draw every chunk.
 */
export function rankTargets(hash: string, size: number, writable: readonly NodeLink[], holding: readonly string[] = []): NodeLink[] {
  const eligible = writable.filter((link) => holding.includes(link.id) || link.freeBytes >= size);
  const disks = eligible.filter((link) => link.kind === 'disk').map((link) => link.capacityBytes);
  const cap = disks.length > 0 ? Math.max(...disks) : Infinity;
  return rankNodes(
    hash,
    eligible.map((link) => ({ link, id: link.id, weight: link.kind === 'browser' ? Math.min(link.capacityBytes, cap) : link.capacityBytes })),
  ).map((c) => c.link);
}

/**
 * Puts the best disk node first when no disk node holds the chunk yet: every chunk keeps a copy on
 * a disk node while one can take it, so tabs (closed at any moment, and admitted by invite, so
 * maybe lying) never hold all of a chunk's copies in a cluster that has disks.
 */
export function diskFirst(ranked: NodeLink[], holdsDiskCopy: boolean): NodeLink[] {
  const disk = holdsDiskCopy ? -1 : ranked.findIndex((link) => link.kind === 'disk');
  return disk <= 0 ? ranked : [ranked[disk]!, ...ranked.slice(0, disk), ...ranked.slice(disk + 1)];
}

/** Maps a string to a uniform number strictly between 0 and 1. */
function unitHash(value: string): number {
  const digest = createHash('sha256').update(value).digest();
  const top53 = digest.readUIntBE(0, 6) * 32 + (digest[6]! >>> 3);
  return (top53 + 0.5) / 2 ** 53;
}
