/** Unit tests of {@linkcode ShardStore}: expiry and remaining time to live. */
import assert from "node:assert/strict";
import { ShardStore } from "./store.ts";
import { fakeClockStore, INDEX, T, write } from "./store_test_helpers.ts";

Deno.test("ShardStore expires a key once ttlMs have passed", () => {
  const { clock, store } = fakeClockStore(1_000);
  store.set(write("k", 3, { ttlMs: 500 }));
  clock.t = 1_000 + 499;
  assert.notEqual(store.get("k"), undefined);
  clock.t = 1_000 + 501;
  assert.equal(store.get("k"), undefined);
  assert.equal(store.ttl("k"), undefined);
});

Deno.test("ShardStore ttl() reports the remaining milliseconds, rounded up", () => {
  const { clock, store } = fakeClockStore(1_000);
  store.set(write("k", 3, { ttlMs: 500 }));
  assert.equal(store.ttl("k"), 500);
  clock.t += 200;
  assert.equal(store.ttl("k"), 300);
  clock.t += 0.25;
  assert.equal(store.ttl("k"), 300);
  clock.t += 298.75;
  assert.equal(store.ttl("k"), 1);
});

Deno.test("ShardStore ttl() is 0 for a key without expiry and undefined on a miss", () => {
  const { clock, store } = fakeClockStore(1_000);
  store.set(write("forever", 3));
  assert.equal(store.ttl("forever"), 0);
  assert.equal(store.ttl("missing"), undefined);
  clock.t += 1e12;
  assert.equal(store.ttl("forever"), 0);
  assert.notEqual(store.get("forever"), undefined);
});

Deno.test("ShardStore counts a read of an expired key as a miss and an expiration", () => {
  const { clock, store } = fakeClockStore(1_000);
  store.set(write("k", 3, { ttlMs: 100 }));
  assert.notEqual(store.get("k"), undefined);
  clock.t += 101;
  assert.equal(store.get("k"), undefined);
  const stats = store.stats();
  assert.deepEqual(
    {
      hits: stats.hits,
      misses: stats.misses,
      expirations: stats.expirations,
      items: stats.items,
      bytes: stats.bytes,
    },
    { hits: 1, misses: 1, expirations: 1, items: 0, bytes: INDEX },
  );
});

Deno.test("ShardStore delete of an expired key reports false", () => {
  const { clock, store } = fakeClockStore(1_000);
  store.set(write("k", 3, { ttlMs: 100 }));
  clock.t += 101;
  assert.equal(store.delete("k"), false);
  assert.equal(store.stats().items, 0);
});

Deno.test("ShardStore purgeExpired() drops expired entries and counts expirations", () => {
  const { clock, store } = fakeClockStore(1_000);
  store.set(write("short", 3, { ttlMs: 100 })); // 40 + 5 + 3: 48 bytes
  store.set(write("long", 3, { ttlMs: 1_000 })); // 40 + 4 + 3: 48 bytes
  store.set(write("none", 3)); // 48 bytes
  clock.t += 101;
  // Until purged, an expired entry still counts.
  assert.deepEqual(
    { items: store.stats().items, bytes: store.stats().bytes },
    { items: 3, bytes: INDEX + T + 144 },
  );
  store.purgeExpired();
  assert.deepEqual(
    {
      items: store.stats().items,
      bytes: store.stats().bytes,
      expirations: store.stats().expirations,
      evictions: store.stats().evictions,
    },
    { items: 2, bytes: INDEX + T + 96, expirations: 1, evictions: 0 },
  );
  assert.equal(store.ttl("short"), undefined);
  assert.equal(store.ttl("long"), 899);
  assert.equal(store.ttl("none"), 0);
  clock.t += 1_000;
  store.purgeExpired();
  assert.deepEqual(
    {
      items: store.stats().items,
      bytes: store.stats().bytes,
      expirations: store.stats().expirations,
    },
    { items: 1, bytes: INDEX + T + 48, expirations: 2 },
  );
});

Deno.test("ShardStore overwriting a key with ttlMs 0 removes its expiry", () => {
  const { clock, store } = fakeClockStore(1_000);
  store.set(write("k", 3, { ttlMs: 100 }));
  store.set(write("k", 3, { ttlMs: 0 }));
  assert.equal(store.ttl("k"), 0);
  clock.t += 1_000_000;
  assert.notEqual(store.get("k"), undefined);
  store.purgeExpired();
  assert.equal(store.stats().expirations, 0);
});

Deno.test("ShardStore overwriting a key with a new ttlMs restarts its clock", () => {
  const { clock, store } = fakeClockStore(1_000);
  store.set(write("k", 3, { ttlMs: 100 }));
  clock.t += 90;
  store.set(write("k", 3, { ttlMs: 100 }));
  assert.equal(store.ttl("k"), 100);
  clock.t += 90; // 180 ms after the first write
  assert.notEqual(store.get("k"), undefined);
  clock.t += 11;
  assert.equal(store.get("k"), undefined);
});

Deno.test({
  name: "ShardStore expires an entry written when the clock reads 0",
  fn() {
    let now = 0;
    const store = new ShardStore({ maxBytes: 1_000, now: () => now });
    store.set(write("k", 3, { ttlMs: 100 }));
    assert.equal(store.ttl("k"), 100);
    now = 101;
    assert.equal(store.get("k"), undefined);
  },
});

Deno.test("ShardStore charges the 8-byte expiry field only to entries written with a TTL", () => {
  const { store } = fakeClockStore(10_000);
  store.set(write("a", 100)); // 32 + 1 + 100 = 133: 136 bytes
  assert.equal(store.stats().bytes, INDEX + T + 136);
  store.set(write("b", 100, { ttlMs: 500 })); // 40 + 1 + 100 = 141: 144
  assert.equal(store.stats().bytes, INDEX + T + 136 + 144);
  store.set(write("b", 100)); // written again without one: 136
  assert.equal(store.stats().bytes, INDEX + T + 136 + 136);
});

Deno.test("ShardStore touch() gives an entry without an expiry field one: value, version and newest place kept, 8 bytes more", () => {
  const { clock, store } = fakeClockStore(10_000);
  store.set({ ...write("a", 100, { fill: 9 }), version: 42 });
  store.set(write("b", 3));
  assert.equal(store.touch("a", 500), true);
  assert.equal(store.stats().bytes, INDEX + T + 144 + 48);
  assert.equal(store.ttl("a"), 500);
  assert.deepEqual([...store.writes()].map((w) => w.key), ["b", "a"]);
  const a = store.peek("a")!;
  assert.deepEqual([a.version, a.value.length, a.value.every((x) => x === 9)], [
    42,
    100,
    true,
  ]);
  // Its field stays when the expiry is removed, and can be set again.
  assert.equal(store.touch("a", 0), true);
  assert.deepEqual([store.ttl("a"), store.stats().bytes], [0, INDEX + T + 192]);
  assert.equal(store.touch("a", 300), true);
  clock.t += 301;
  store.purgeExpired();
  assert.deepEqual(
    { items: store.stats().items, expirations: store.stats().expirations },
    { items: 1, expirations: 1 },
  );
});

Deno.test("ShardStore touch() with no TTL on an entry without an expiry field only makes it the newest", () => {
  const { store } = fakeClockStore(10_000);
  store.set(write("a", 100));
  store.set(write("b", 3));
  assert.equal(store.touch("a", 0), true);
  assert.deepEqual([store.ttl("a"), store.stats().bytes], [0, INDEX + T + 184]);
  assert.deepEqual([...store.writes()].map((w) => w.key), ["b", "a"]);
});

Deno.test("ShardStore touch() that needs room for an expiry field evicts the oldest entry, not the touched one", () => {
  // a and b take 136 bytes each: 272 of 276 after the index and "t".
  const { store } = fakeClockStore(INDEX + T + 276);
  store.set(write("a", 100));
  store.set(write("b", 100));
  assert.equal(store.touch("b", 500), true); // 144 bytes: a must go
  assert.deepEqual([store.ttl("a"), store.ttl("b")], [undefined, 500]);
  assert.equal(store.stats().evictions, 1);
  assert.equal(store.stats().bytes, INDEX + T + 144);
});
