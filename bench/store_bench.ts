/**
 * The shard store: reads (hit, miss) and writes (with and without eviction
 * churn) against a plain `Map` doing the same work, the floor any store
 * sits on.
 *
 * Run: deno bench bench/store_bench.ts
 *
 * @module
 */
import { cacheKey } from "../shared/wire/cache_key.ts";
import { entryBytes } from "../shared/store/entries.ts";
import { ShardStore } from "../shared/store/store.ts";
import { encodeBytes } from "../shared/wire/values.ts";

const KEYS = 100_000;
const keys = Array.from(
  { length: KEYS },
  (_, i) => cacheKey("bench", `key-${i}`),
);
const value = encodeBytes(new Uint8Array(100));
const entry = entryBytes(keys[0]!.length, value.value.length);

const map = new Map<string, typeof value>();
const store = new ShardStore({ maxBytes: 1024 * 1024 * 1024 });
/** Holds a tenth of the keys: every write evicts. */
const small = new ShardStore({ maxBytes: entry * (KEYS / 10) });
for (const key of keys) {
  map.set(key, value);
  store.set({ key, value, ttlMs: 0 });
  small.set({ key, value, ttlMs: 0 });
}
let i = 0;
const nextKey = () => keys[i++ % KEYS]!;

Deno.bench({
  name: "Map.get",
  group: "get (hit)",
  baseline: true,
  fn: () => void map.get(nextKey()),
});
Deno.bench({
  name: "ShardStore.get",
  group: "get (hit)",
  fn: () => void store.get(nextKey()),
});

Deno.bench({
  name: "Map.get",
  group: "get (miss)",
  baseline: true,
  fn: () => void map.get("missing"),
});
Deno.bench({
  name: "ShardStore.get",
  group: "get (miss)",
  fn: () => void store.get("missing"),
});

Deno.bench({
  name: "Map.set",
  group: "set",
  baseline: true,
  fn: () => void map.set(nextKey(), value),
});
Deno.bench({
  name: "ShardStore.set (overwrite, no eviction)",
  group: "set",
  fn: () => void store.set({ key: nextKey(), value, ttlMs: 0 }),
});
Deno.bench({
  name: "ShardStore.set (evicts on every write)",
  group: "set",
  fn: () => void small.set({ key: nextKey(), value, ttlMs: 0 }),
});
Deno.bench({
  name: "ShardStore.set with a TTL",
  group: "set",
  fn: () => void store.set({ key: nextKey(), value, ttlMs: 60_000 }),
});
