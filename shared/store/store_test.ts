/** Unit tests of {@linkcode ShardStore}: LRU by bytes, charges and counters. */
import assert from "node:assert/strict";
import { ResourceExhaustedError, Status } from "../wire/errors.ts";
import { ShardStore } from "./store.ts";
import type { ShardWrite } from "../wire/shard.ts";
import { charged, INDEX, T, urlCharge, write } from "./store_test_helpers.ts";

Deno.test("ShardStore returns what was set, byte for byte", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  const value = {
    typeUrl: "example.com/x",
    value: new Uint8Array([0, 1, 255]),
  };
  store.set({ key: "1:ak", value, ttlMs: 0 });
  const got = store.get("1:ak");
  assert.equal(got?.typeUrl, "example.com/x");
  assert.deepEqual(Array.from(got!.value), [0, 1, 255]);
  assert.equal(store.get("1:missing"), undefined);
});

Deno.test("ShardStore overwrites a key with the newer value", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  store.set(write("k", 3, { fill: 1 }));
  store.set(write("k", 2, { fill: 2 }));
  assert.deepEqual(Array.from(store.get("k")!.value), [2, 2]);
  assert.equal(store.stats().items, 1);
});

Deno.test("ShardStore delete tells whether the key was there and removes it", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  store.set(write("k", 3));
  assert.equal(store.delete("k"), true);
  assert.equal(store.get("k"), undefined);
  assert.equal(store.delete("k"), false);
  assert.equal(store.delete("never"), false);
  assert.deepEqual(
    { items: store.stats().items, bytes: store.stats().bytes },
    { items: 0, bytes: INDEX },
  );
});

Deno.test("ShardStore evicts the least recently used entry, sparing a recently read one", () => {
  // Each entry: 32 + key 2 + value 15 = 49, rounded up to 56.
  assert.equal(charged(write("k1", 15)), 56);
  const store = new ShardStore({ maxBytes: INDEX + T + 3 * 56 });
  store.set(write("k1", 15));
  store.set(write("k2", 15));
  store.set(write("k3", 15));
  assert.notEqual(store.get("k1"), undefined); // k1 is now the most recent
  store.set(write("k4", 15));
  // ttl() does not touch recency, so these checks do not reorder anything.
  assert.equal(store.ttl("k2"), undefined);
  assert.equal(store.ttl("k1"), 0);
  assert.equal(store.ttl("k3"), 0);
  assert.equal(store.ttl("k4"), 0);
  assert.deepEqual(
    { items: store.stats().items, evictions: store.stats().evictions },
    { items: 3, evictions: 1 },
  );
});

Deno.test("ShardStore evicts as many old entries as a large write needs, oldest first", () => {
  const store = new ShardStore({ maxBytes: INDEX + T + 3 * 56 });
  store.set(write("k1", 15));
  store.set(write("k2", 15));
  store.set(write("k3", 15));
  assert.equal(charged(write("k4", 78)), 112);
  store.set(write("k4", 78)); // 112 bytes: k1 and k2 must go
  assert.equal(store.ttl("k1"), undefined);
  assert.equal(store.ttl("k2"), undefined);
  assert.equal(store.ttl("k3"), 0);
  assert.equal(store.ttl("k4"), 0);
  assert.equal(store.stats().bytes, INDEX + T + 56 + 112);
  assert.equal(store.stats().evictions, 2);
});

Deno.test("ShardStore counts neither overwrites nor deletes as evictions", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  store.set(write("k", 5));
  store.set(write("k", 6));
  store.delete("k");
  assert.equal(store.stats().evictions, 0);
});

Deno.test("ShardStore charges a header, the UTF-8 key and the value, rounded up to 8, each type URL once, and its index", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  const a = write("ключ", 13, { typeUrl: "t/é" }); // 32 + 8 + 13 = 53
  // 32 + 4 + 3 = 39: the arena's smallest chunk, 48.
  const b = write("🔑", 3, { typeUrl: "type.example/日本" });
  assert.deepEqual([charged(a), charged(b)], [56, 48]);
  assert.deepEqual([urlCharge("t/é"), urlCharge("type.example/日本")], [
    136,
    166,
  ]);
  store.set(a);
  assert.equal(store.stats().bytes, INDEX + 56 + 136);
  store.set(b);
  assert.equal(store.stats().bytes, INDEX + 56 + 136 + 48 + 166);
  store.set(write("other", 1, { typeUrl: "t/é" })); // "t/é" is held once
  assert.equal(store.stats().bytes, INDEX + 56 + 136 + 48 + 166 + 48);
  store.delete("other");
  // b's type URL goes with its last entry.
  store.delete("🔑");
  const { bytes, indexBytes, arenaBytes } = store.stats();
  assert.deepEqual({ bytes, indexBytes, arenaBytes }, {
    bytes: INDEX + 56 + 136,
    indexBytes: INDEX,
    arenaBytes: 56 + 48 + 48, // memory handed out once stays resident
  });
});

Deno.test("ShardStore reuses a freed chunk whole when what is left would be too small to stay free", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  store.set(write("a", 31)); // 32 + 1 + 31 = 64
  store.set(write("b", 7)); // 48, after a
  // 32 + 1 + 16 = 49 → 56: it takes a's freed 64-byte chunk whole, since
  // the 8 bytes left would be too small for a free chunk (48 at least).
  store.set(write("a", 16));
  assert.equal(charged(write("a", 16)), 56);
  assert.equal(store.stats().bytes, INDEX + T + 64 + 48);
});

Deno.test("ShardStore charges its index as it doubles: 4 bytes a slot, at most 3/4 full", () => {
  const store = new ShardStore({ maxBytes: 100_000 });
  for (let i = 0; i < 6; i++) store.set(write(`k${i}`, 0));
  assert.equal(store.stats().indexBytes, 32);
  store.set(write("k6", 0)); // 7 > 0.75 × 8 slots: 16 slots
  assert.equal(store.stats().indexBytes, 64);
  assert.equal(store.stats().bytes, 64 + T + 7 * 48);
});

Deno.test("ShardStore evicts the oldest entries until neighbours merge when no free chunk fits", () => {
  const store = new ShardStore({ maxBytes: INDEX + T + 4 * 56 });
  for (const key of ["k1", "k2", "k3", "k4"]) store.set(write(key, 15));
  store.delete("k1");
  store.delete("k3");
  // 112 bytes are free, in two 56-byte holes: a 112-byte entry fits the
  // budget but no hole, so k2 (the oldest) goes and the holes merge.
  store.set(write("k5", 78));
  assert.deepEqual(
    ["k2", "k4", "k5"].map((key) => store.ttl(key)),
    [undefined, 0, 0],
  );
  assert.deepEqual(
    { items: store.stats().items, evictions: store.stats().evictions },
    { items: 2, evictions: 1 },
  );
  assert.equal(store.stats().bytes, INDEX + T + 56 + 112);
});

Deno.test("ShardStore bytes never exceed maxBytes and equal the charged sizes of the entries held", () => {
  const maxBytes = 2_000;
  const store = new ShardStore({ maxBytes });
  const written = new Map<string, ShardWrite>();
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 2_000; i++) {
    const key = `k${next() % 60}é`;
    const w = write(key, next() % 120, { typeUrl: i % 2 ? "t" : "t/ü" });
    store.set(w);
    written.set(key, w);
    if (i % 7 === 0) store.get(`k${next() % 60}é`);
    let held = 0;
    let items = 0;
    const urls = new Set<string>();
    for (const [k, kw] of written) {
      if (store.ttl(k) !== undefined) {
        held += charged(kw);
        urls.add(kw.value.typeUrl);
        items++;
      }
    }
    for (const url of urls) held += urlCharge(url);
    const stats = store.stats();
    assert.ok(stats.bytes <= maxBytes, `bytes ${stats.bytes} > ${maxBytes}`);
    // A chunk is the entry's size, or up to 40 bytes more when the rest of
    // the free chunk it came from was too small to stay free.
    const slack = stats.bytes - stats.indexBytes - held;
    assert.ok(slack >= 0 && slack <= 40 * items, `slack ${slack}`);
    assert.ok(stats.arenaBytes <= maxBytes - stats.indexBytes);
    assert.equal(stats.items, items);
  }
  assert.ok(store.stats().evictions > 0);
});

Deno.test("ShardStore rejects an entry larger than maxBytes and leaves existing data untouched", () => {
  const store = new ShardStore({ maxBytes: INDEX + T + 96 });
  store.set(write("a", 5, { fill: 7 })); // 48 bytes
  store.set(write("b", 5)); // 48 bytes
  const before = store.stats();
  assert.throws(
    () => store.set(write("c", 198)), // 32 + 1 + 198 = 231: 232 bytes
    (error: unknown) => {
      assert.ok(error instanceof ResourceExhaustedError);
      assert.equal(error.code, Status.RESOURCE_EXHAUSTED);
      assert.equal(error.code, 8);
      assert.equal(
        error.message,
        `entry is 232 bytes with its header: a shard holds at most ${T + 96}`,
      );
      return true;
    },
  );
  // Overwriting an existing key with an oversize value keeps the old value.
  assert.throws(() => store.set(write("a", 300)), ResourceExhaustedError);
  assert.deepEqual(store.stats(), before);
  assert.deepEqual(Array.from(store.get("a")!.value), [7, 7, 7, 7, 7]);
  assert.notEqual(store.get("b"), undefined);
  assert.equal(store.get("c"), undefined);
});

Deno.test("ShardStore accepts an entry of exactly maxBytes, evicting everything else", () => {
  const store = new ShardStore({ maxBytes: INDEX + T + 96 });
  store.set(write("a", 5));
  store.set(write("b", 63)); // 32 + 1 + 63 = 96
  assert.equal(store.ttl("a"), undefined);
  assert.deepEqual(
    { items: store.stats().items, bytes: store.stats().bytes },
    { items: 1, bytes: INDEX + T + 96 },
  );
});

Deno.test("ShardStore setMany writes every entry", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  store.setMany([write("a", 1, { fill: 1 }), write("b", 2, { fill: 2 })]);
  assert.deepEqual(Array.from(store.get("a")!.value), [1]);
  assert.deepEqual(Array.from(store.get("b")!.value), [2, 2]);
});

Deno.test("ShardStore setMany is all or none: one oversize item means none is written", () => {
  const store = new ShardStore({ maxBytes: INDEX + T + 96 });
  store.set(write("old", 3));
  const before = store.stats();
  assert.throws(
    () =>
      store.setMany([
        write("a", 1),
        write("b", 1),
        write("c", 200),
        write("d", 1),
      ]),
    ResourceExhaustedError,
  );
  assert.deepEqual(store.stats(), before);
  for (const key of ["a", "b", "c", "d"]) {
    assert.equal(store.ttl(key), undefined, key);
  }
  assert.equal(store.ttl("old"), 0);
});

Deno.test("ShardStore rejects a maxBytes that is not a positive integer", () => {
  for (const maxBytes of [0, -1, 1.5, NaN]) {
    assert.throws(() => new ShardStore({ maxBytes }), RangeError);
  }
});

Deno.test("ShardStore counts hits and misses", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  store.set(write("a", 1));
  store.get("a");
  store.get("a");
  store.get("b");
  store.ttl("a"); // not a read
  store.ttl("b");
  const stats = store.stats();
  assert.deepEqual(stats, {
    items: 1,
    bytes: INDEX + T + 48,
    capacityBytes: 1_000,
    hits: 2,
    misses: 1,
    evictions: 0,
    expirations: 0,
    indexBytes: INDEX,
    arenaBytes: 48,
  });
});
