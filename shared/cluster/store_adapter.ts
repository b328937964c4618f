/**
 * A shard's store as `Dump` streams it: chunks of writes, each read when it
 * is sent.
 *
 * @module
 */
import type { ShardStore } from "../store/store.ts";
import type { ShardWrite } from "../wire/shard.ts";

/**
 * The store's entries and tombstones as writes, `size` at a time, for a
 * `Dump` that yields to the event loop between chunks. Only the keys are
 * taken at once; each chunk is read when it is sent, so a write made during
 * the dump is sent as it stands then, and a key gone meanwhile is skipped.
 */
export function* dumpChunks(
  store: ShardStore,
  size: number,
): Generator<ShardWrite[]> {
  const keys = [...store.keys()];
  for (let i = 0; i < keys.length; i += size) {
    const chunk: ShardWrite[] = [];
    for (const key of keys.slice(i, i + size)) {
      const write = store.writeOf(key);
      if (write) chunk.push(write);
    }
    yield chunk;
  }
}
