/**
 * Routing a request: joining namespace and key, hashing, picking the
 * shard, against the join alone.
 *
 * Run: deno bench bench/routing_bench.ts
 *
 * @module
 */
import { cacheKey, hashKey } from "../shared/wire/cache_key.ts";
import { Router } from "../shared/shards/router.ts";
import type { Shard } from "../shared/wire/shard.ts";

const keys = Array.from({ length: 1024 }, (_, i) => `user:${i}:session`);
const router = new Router(Array.from({ length: 8 }, () => ({}) as Shard));
let i = 0;

Deno.bench({
  name: "cacheKey (join only)",
  group: "routing one key",
  baseline: true,
  fn: () => void cacheKey("sessions", keys[i++ & 1023]!),
});
Deno.bench({
  name: "cacheKey + hashKey",
  group: "routing one key",
  fn: () => void hashKey(cacheKey("sessions", keys[i++ & 1023]!)),
});
Deno.bench({
  name: "cacheKey + Router.shardFor (8 shards)",
  group: "routing one key",
  fn: () => void router.shardFor(cacheKey("sessions", keys[i++ & 1023]!)),
});
