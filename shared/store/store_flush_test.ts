/** Unit tests of {@linkcode ShardStore}'s namespace flush, touch and peek. */
import assert from "node:assert/strict";
import { ShardStore } from "./store.ts";
import { cacheKey } from "../wire/cache_key.ts";
import { flushBytes, MAX_FLUSHED_NAMESPACES } from "./namespace_flushes.ts";
import { write } from "./store_test_helpers.ts";

function versioned(key: string, version: number) {
  return { ...write(key, 8), version };
}

Deno.test("ShardStore flushes a namespace of 100,000 keys without visiting one, and keeps the others", () => {
  const store = new ShardStore({ maxBytes: 64 << 20 });
  let version = 0;
  for (let i = 0; i < 100_000; i++) {
    store.set(versioned(cacheKey("big", `k${i}`), ++version));
  }
  for (let i = 0; i < 100; i++) {
    store.set(versioned(cacheKey("other", `k${i}`), ++version));
  }
  const before = store.stats();
  const work = store.work();
  store.flushNamespace("big", version);
  const after = store.work();
  // By the store's own counters: one flush, no entry looked at or removed.
  assert.deepEqual(after, { ...work, flushes: work.flushes + 1 });
  // Still charged (and the table entry too) until reclaimed.
  assert.equal(store.stats().items, before.items);
  assert.equal(store.stats().bytes, before.bytes + flushBytes("3:big".length));
  assert.equal(store.get(cacheKey("big", "k0")), undefined);
  assert.equal(store.peek(cacheKey("big", "k99999")), undefined);
  assert.equal(store.ttl(cacheKey("big", "k5")), undefined);
  assert.equal(store.delete(cacheKey("big", "k6")), false);
  for (let i = 0; i < 100; i++) {
    assert.notEqual(store.get(cacheKey("other", `k${i}`)), undefined);
  }
  // A write after the flush is seen.
  store.set(versioned(cacheKey("big", "k1"), ++version));
  assert.equal(store.get(cacheKey("big", "k1"))?.version, version);
  // The sweep reclaims the rest and forgets the flush.
  store.purgeExpired();
  assert.equal(store.stats().items, 101);
  assert.equal(store.work().flushedAway, 100_000 - 1);
  assert.notEqual(store.get(cacheKey("big", "k1")), undefined);
});

Deno.test("ShardStore does not hide a namespace whose name is a prefix of the flushed one", () => {
  const store = new ShardStore({ maxBytes: 1 << 20 });
  store.set(versioned(cacheKey("ab", "c"), 1));
  store.set(versioned(cacheKey("a", "bc"), 2));
  store.set(versioned(cacheKey("abc", ""), 3));
  store.flushNamespace("ab", 10);
  assert.equal(store.get(cacheKey("ab", "c")), undefined);
  assert.notEqual(store.get(cacheKey("a", "bc")), undefined);
  assert.notEqual(store.get(cacheKey("abc", "")), undefined);
});

Deno.test("ShardStore writes() leaves flushed entries out", () => {
  const store = new ShardStore({ maxBytes: 1 << 20 });
  store.set(versioned(cacheKey("a", "1"), 1));
  store.set(versioned(cacheKey("b", "1"), 2));
  store.flushNamespace("a", 2);
  assert.deepEqual([...store.writes()].map((w) => w.key), ["1:b1"]);
});

Deno.test("ShardStore sweeps before its table of flushed namespaces grows past its bound", () => {
  const store = new ShardStore({ maxBytes: 4 << 20 });
  for (let i = 0; i <= MAX_FLUSHED_NAMESPACES; i++) {
    store.set(versioned(cacheKey(`n${i}`, "k"), i + 1));
    store.flushNamespace(`n${i}`, i + 1);
  }
  // The last flush found the table full: the sweep dropped every hidden entry.
  assert.equal(store.work().flushedAway, MAX_FLUSHED_NAMESPACES);
  assert.equal(store.stats().items, 1);
  assert.equal(
    store.get(cacheKey(`n${MAX_FLUSHED_NAMESPACES}`, "k")),
    undefined,
  );
});

Deno.test("ShardStore touch sets or removes a key's expiry and keeps its value and version", () => {
  let now = 0;
  const store = new ShardStore({ maxBytes: 1 << 20, now: () => now });
  store.set({ ...versioned("k", 7), ttlMs: 1000 });
  assert.equal(store.touch("k", 5000), true);
  assert.equal(store.ttl("k"), 5000);
  assert.equal(store.touch("k", 0), true);
  assert.equal(store.ttl("k"), 0);
  now = 10_000;
  assert.equal(store.peek("k")?.version, 7);
  assert.equal(store.touch("k", 10), true);
  now = 10_011;
  assert.equal(store.get("k"), undefined);
  assert.equal(store.touch("k", 10), false);
  assert.equal(store.touch("never", 10), false);
});

Deno.test("ShardStore peek counts no hit or miss", () => {
  const store = new ShardStore({ maxBytes: 1 << 20 });
  store.set(versioned("k", 3));
  assert.equal(store.peek("k")?.version, 3);
  assert.equal(store.peek("x"), undefined);
  const { hits, misses } = store.stats();
  assert.deepEqual({ hits, misses }, { hits: 0, misses: 0 });
});
