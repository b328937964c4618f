/**
 * {@linkcode Router}: picks the shard that owns a cache key.
 *
 * `shared/shards/` is how a frontend reaches its shards inside one process:
 * this router over the `Shard` interface, the per-turn `Batcher`
 * (`batcher.ts`), the shard worker entry module and its typed protocol
 * (`shard_worker.ts`, `worker_protocol.ts`), and the shards that speak it
 * (`batched_shard.ts`, with `worker_shard.ts` for the main thread and
 * `port_shard.ts` for extra frontend threads).
 *
 * @module
 */
import { hashKey } from "../wire/cache_key.ts";
import type { Shard } from "../wire/shard.ts";

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
