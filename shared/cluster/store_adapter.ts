/**
 * What the cluster needs from a shard's store beyond its own API, behind
 * one small adapter so that the store can grow it later.
 *
 * @module
 */
import type { ShardStore } from "../store/store.ts";
import type { ShardWrite } from "../wire/shard.ts";

/**
 * A store that can say how one key stands, as the write that recreates it
 * (value or tombstone, remaining TTL, version), without counting a hit or
 * a miss or touching its recency. (`peek` is not enough: it has no TTL and
 * no tombstones.)
 */
interface WriteOfStore {
  writeOf(key: string): ShardWrite | undefined;
}

/**
 * The store's entries and tombstones as writes, `size` at a time, for a
 * `Dump` that yields to the event loop between chunks.
 *
 * With a store that has `writeOf`, only the keys are taken at once and each
 * chunk is read when it is sent, so a write made during the dump is sent
 * as it stands then. Without it, `writes()` (which must be consumed with no
 * write in between) is read whole first, then handed out in chunks.
 */
export function* dumpChunks(
  store: ShardStore,
  size: number,
): Generator<ShardWrite[]> {
  const source = store as unknown as Partial<WriteOfStore>;
  if (typeof source.writeOf === "function") {
    const keys: string[] = [];
    for (const write of store.writes()) keys.push(write.key);
    for (let i = 0; i < keys.length; i += size) {
      const chunk: ShardWrite[] = [];
      for (const key of keys.slice(i, i + size)) {
        const write = source.writeOf(key);
        if (write) chunk.push(write);
      }
      yield chunk;
    }
    return;
  }
  const writes = [...store.writes()];
  for (let i = 0; i < writes.length; i += size) {
    yield writes.slice(i, i + size);
  }
}
