/**
 * {@linkcode Router}: picks the shard that owns a cache key.
 *
 * @module
 */
import { hashKey } from "./cache_key.ts";
import type { Shard } from "./shard.ts";

/**
 * Routes cache keys to a fixed list of shards by a stable hash, so every
 * frontend with the same shard count sends a key to the same shard.
 */
export class Router {
  /** The shards, by index. */
  readonly shards: readonly Shard[];

  /** @param shards At least one shard, by index. */
  constructor(shards: readonly Shard[]) {
    if (shards.length === 0) {
      throw new RangeError("Cannot route: there are no shards");
    }
    this.shards = shards;
  }

  /** The index of the shard that owns `key`. */
  indexOf(key: string): number {
    return hashKey(key) % this.shards.length;
  }

  /** The shard that owns `key`. */
  shardFor(key: string): Shard {
    return this.shards[this.indexOf(key)]!;
  }

  /**
   * Groups positions of `keys` by owning shard.
   *
   * @returns For each shard index that owns any key, the positions of its keys.
   */
  group(keys: readonly string[]): Map<number, number[]> {
    const groups = new Map<number, number[]>();
    keys.forEach((key, position) => {
      const index = this.indexOf(key);
      const positions = groups.get(index);
      if (positions) positions.push(position);
      else groups.set(index, [position]);
    });
    return groups;
  }
}
