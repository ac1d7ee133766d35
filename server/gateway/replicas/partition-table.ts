import { createHash } from 'node:crypto';

/**
 * 2^16 partitions: at 1,000 nodes and R=2 about 130 replica slots per node, fine enough that the
 * balancing below keeps each node within a few percent of its share, while a table stays a few
 * MB and builds in about 2 CPU-seconds. A chunk's partition is the top bits of its hash, so it never changes.
 */
export const PARTITION_BITS = 16;

/** Nodes listed per partition beyond its R: where placement goes when a preferred node is full or failing. */
const SPARES = 8;

/**
 * How far over its share of replica slots a node may be before partitions it wins narrowly go to
 * their next choice. Lower evens used space out more and moves more when nodes come and go.
 */
const TOLERANCE = 0.05;

export interface TableMember {
  id: string;
  /** Relative share of data this member should hold: its capacity. */
  weight: number;
}

export interface PartitionTableOptions {
  replicas: number;
  partitionBits?: number;
}

/** The partition of a chunk: the top `bits` bits of its hex hash. */
export function partitionOf(hash: string, bits = PARTITION_BITS): number {
  return Number.parseInt(hash.slice(0, 8), 16) >>> (32 - bits);
}

/**
 * Where each partition's copies go: an ordered list of members per partition, its first R being
 * the preferred holders and the rest spares, so placing a chunk costs a walk of a short list
 * however many nodes there are. A list is the partition's weighted rendezvous ranking (a member's
 * chance of ranking first is proportional to its weight, and adding or removing a member only
 * changes the partitions it wins or loses), evened out by `#balance` so that no member holds more
 * than TOLERANCE over its share of the replica slots. The table is a pure function of the members
 * (ids, weights) and R: every gateway given the same nodes builds the same table (V8 computes
 * Math.log with its own port of fdlibm, the same bits on every platform).
 */
export class PartitionTable {
  readonly members: readonly TableMember[];
  readonly replicas: number;
  readonly partitionBits: number;
  readonly partitions: number;
  /** Entries per partition: min(members, R + SPARES). */
  readonly width: number;
  readonly #lists: Int32Array;
  readonly #seeds: Uint32Array;
  readonly #weights: Float64Array;

  constructor(members: readonly TableMember[], options: PartitionTableOptions) {
    this.members = [...members].filter((m) => m.weight > 0).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.replicas = options.replicas;
    this.partitionBits = options.partitionBits ?? PARTITION_BITS;
    this.partitions = 2 ** this.partitionBits;
    this.width = Math.min(this.members.length, options.replicas + SPARES);
    this.#seeds = new Uint32Array(this.members.length * 2);
    this.#weights = new Float64Array(this.members.map((m) => m.weight));
    this.members.forEach((member, i) => {
      const digest = createHash('sha256').update(member.id).digest();
      this.#seeds[2 * i] = digest.readUInt32BE(0);
      this.#seeds[2 * i + 1] = digest.readUInt32BE(4);
    });
    this.#lists = new Int32Array(this.partitions * this.width);
    const scores = new Float64Array(this.partitions * this.width);
    for (let p = 0; p < this.partitions; p++) this.#rank(p, scores);
    this.#balance(scores);
  }

  partitionOf(hash: string): number {
    return partitionOf(hash, this.partitionBits);
  }

  /** The member indices listed for a partition, preferred holders first. */
  list(partition: number): Int32Array {
    return this.#lists.subarray(partition * this.width, (partition + 1) * this.width);
  }

  /**
   * Appends to `out` every member of the partition's list that `accept` takes, in order, and when
   * that is fewer than `count`, the best others by rendezvous rank until it is `count` (the spares
   * ran out: a full or failing cluster). Says how many it appended.
   */
  pick(partition: number, count: number, accept: (member: number) => boolean, out: number[]): number {
    const start = out.length;
    const list = this.list(partition);
    for (let i = 0; i < list.length; i++) if (accept(list[i]!)) out.push(list[i]!);
    if (out.length - start >= count || list.length === this.members.length) return out.length - start;
    const listed = new Set(list);
    const rest: Array<{ member: number; score: number }> = [];
    for (let m = 0; m < this.members.length; m++) if (!listed.has(m) && accept(m)) rest.push({ member: m, score: this.#score(partition, m) });
    rest.sort((a, b) => b.score - a.score || a.member - b.member);
    for (const { member } of rest.slice(0, count - (out.length - start))) out.push(member);
    return out.length - start;
  }

  /** Replica slots per member: the partitions that list it among their first R. */
  slots(): Int32Array {
    const slots = new Int32Array(this.members.length);
    const chosen = Math.min(this.replicas, this.width);
    for (let p = 0; p < this.partitions; p++) for (let r = 0; r < chosen; r++) slots[this.#lists[p * this.width + r]!]!++;
    return slots;
  }

  /** Each member's fair number of replica slots: R per partition shared by weight, none above one per partition. */
  targets(): Float64Array {
    const n = this.members.length;
    const targets = new Float64Array(n);
    const full = new Uint8Array(n);
    const total = Math.min(this.replicas, n) * this.partitions;
    for (;;) {
      let weight = 0;
      let fixed = 0;
      for (let i = 0; i < n; i++) {
        if (full[i]) fixed += this.partitions;
        else weight += this.#weights[i]!;
      }
      let capped = false;
      for (let i = 0; i < n; i++) {
        if (full[i]) continue;
        targets[i] = ((total - fixed) * this.#weights[i]!) / weight;
        if (targets[i]! > this.partitions) {
          targets[i] = this.partitions;
          full[i] = 1;
          capped = true;
        }
      }
      if (!capped) return targets;
    }
  }

  /** The weighted rendezvous score of a member for a partition: -weight / ln(u), u uniform in (0, 1). */
  #score(partition: number, member: number): number {
    const hi = mix(this.#seeds[2 * member]! ^ Math.imul(partition + 1, 0x9e3779b1));
    const lo = mix(this.#seeds[2 * member + 1]! ^ Math.imul(hi, 0x85ebca6b) ^ partition);
    const u = ((hi >>> 0) * 2097152 + ((lo >>> 0) >>> 11) + 0.5) / 9007199254740992;
    return -this.#weights[member]! / Math.log(u);
  }

  /** Fills the partition's list with its `width` best members by score, best first. */
  #rank(partition: number, scores: Float64Array): void {
    const base = partition * this.width;
    const width = this.width;
    let filled = 0;
    for (let m = 0; m < this.members.length; m++) {
      const score = this.#score(partition, m);
      if (filled === width && score <= scores[base + width - 1]!) continue;
      let at = filled < width ? filled++ : width - 1;
      while (at > 0 && scores[base + at - 1]! < score) {
        scores[base + at] = scores[base + at - 1]!;
        this.#lists[base + at] = this.#lists[base + at - 1]!;
        at--;
      }
      scores[base + at] = score;
      this.#lists[base + at] = m;
    }
  }

  /**
   * Evens out replica slots in two passes. First a member over its share by more than TOLERANCE
   * gives up, narrowest wins first, partitions it holds to the best spare still under its cap;
   * then a member under its share by more than TOLERANCE takes, narrowest losses first,
   * partitions where it is a spare from the weakest holder above its own share. Which partitions
   * move depends on the members' own scores, not on an order of partitions, so a change in the
   * members moves few partitions besides those rendezvous moves.
   */
  #balance(scores: Float64Array): void {
    const chosen = this.replicas;
    if (this.width <= chosen) return;
    const targets = this.targets();
    const caps = targets.map((t) => Math.ceil(t * (1 + TOLERANCE)));
    const floors = targets.map((t) => Math.floor(t * (1 - TOLERANCE)));
    const load = this.slots();
    const move = (from: number, to: number, base: number): void => {
      load[this.#lists[from]!]!--;
      load[this.#lists[to]!]!++;
      swap(this.#lists, from, to);
      swap(scores, from, to);
      sortByScore(this.#lists, scores, base, base + chosen);
      sortByScore(this.#lists, scores, base + chosen, base + this.width);
    };
    const at = (base: number, member: number): number => this.#lists.subarray(base, base + this.width).indexOf(member) + base;
    this.#narrowestFirst(
      (base, add) => {
        for (let r = base; r < base + chosen; r++) if (load[this.#lists[r]!]! > caps[this.#lists[r]!]!) add(this.#lists[r]!, scores[r]! / scores[base + chosen]!);
      },
      (base, member) => {
        if (load[member]! <= caps[member]!) return;
        for (let q = base + chosen; q < base + this.width; q++) {
          if (load[this.#lists[q]!]! < caps[this.#lists[q]!]!) return move(at(base, member), q, base);
        }
      },
    );
    this.#narrowestFirst(
      (base, add) => {
        for (let q = base + chosen; q < base + this.width; q++) if (load[this.#lists[q]!]! < floors[this.#lists[q]!]!) add(this.#lists[q]!, scores[base + chosen - 1]! / scores[q]!);
      },
      (base, member) => {
        if (load[member]! >= floors[member]!) return;
        for (let r = base + chosen - 1; r >= base; r--) {
          const holder = this.#lists[r]!;
          if (load[holder]! > targets[holder]!) return move(r, at(base, member), base);
        }
      },
    );
  }

  /**
   * Runs `act` on the (partition, member) pairs `collect` adds, in order of their margin (how
   * narrowly the scores decided), smallest first; ties by partition and member, so the order is the
   * same on every gateway. `act` checks again, as earlier moves change loads.
   */
  #narrowestFirst(collect: (base: number, add: (member: number, margin: number) => void) => void, act: (base: number, member: number) => void): void {
    const bases: number[] = [];
    const members: number[] = [];
    const margins: number[] = [];
    for (let p = 0; p < this.partitions; p++) {
      collect(p * this.width, (member, margin) => {
        bases.push(p * this.width);
        members.push(member);
        margins.push(margin);
      });
    }
    const order = margins.map((_, i) => i).sort((a, b) => margins[a]! - margins[b]! || bases[a]! - bases[b]! || members[a]! - members[b]!);
    for (const i of order) act(bases[i]!, members[i]!);
  }
}

/** MurmurHash3's finaliser: a cheap 32-bit mix with full avalanche. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function swap(array: Int32Array | Float64Array, a: number, b: number): void {
  const t = array[a]!;
  array[a] = array[b]!;
  array[b] = t;
}

/** Insertion sort of a short run of entries by score, best first. */
function sortByScore(lists: Int32Array, scores: Float64Array, from: number, to: number): void {
  for (let i = from + 1; i < to; i++) {
    for (let j = i; j > from && scores[j - 1]! < scores[j]!; j--) {
      swap(scores, j - 1, j);
      swap(lists, j - 1, j);
    }
  }
}
