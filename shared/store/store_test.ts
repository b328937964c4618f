/** Unit tests of {@linkcode ShardStore}: LRU by bytes, TTL, versions and counters. */
import assert from "node:assert/strict";
import { ResourceExhaustedError, Status } from "../wire/errors.ts";
import { ShardStore } from "./store.ts";
import type { ShardWrite } from "../wire/shard.ts";

/** A write of `size` value bytes (each byte is `fill`) under type URL "t". */
function write(
  key: string,
  size: number,
  options: { ttlMs?: number; typeUrl?: string; fill?: number } = {},
): ShardWrite {
  return {
    key,
    value: {
      typeUrl: options.typeUrl ?? "t",
      value: new Uint8Array(size).fill(options.fill ?? 0),
    },
    ttlMs: options.ttlMs ?? 0,
  };
}

/** An empty store's index: 8 slots of 8 bytes. */
const INDEX = 64;

/**
 * The bytes a write is charged for, counted independently of the store: a
 * 40-byte header, the UTF-8 key and type URL and the value, rounded up to
 * 8, and never less than the arena's 48-byte smallest chunk.
 */
function charged(w: ShardWrite): number {
  const encoder = new TextEncoder();
  const raw = 40 + encoder.encode(w.key).length +
    encoder.encode(w.value.typeUrl).length + w.value.value.byteLength;
  return Math.max(48, Math.ceil(raw / 8) * 8);
}

/** A store with a fake clock, starting at 1 000 ms. */
function fakeClockStore(maxBytes: number) {
  const clock = { t: 1_000 };
  const store = new ShardStore({ maxBytes, now: () => clock.t });
  return { clock, store };
}

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
  // Each entry: 40 + key 2 + type URL 1 + value 7 = 50, rounded up to 56.
  assert.equal(charged(write("k1", 7)), 56);
  const store = new ShardStore({ maxBytes: INDEX + 3 * 56 });
  store.set(write("k1", 7));
  store.set(write("k2", 7));
  store.set(write("k3", 7));
  assert.notEqual(store.get("k1"), undefined); // k1 is now the most recent
  store.set(write("k4", 7));
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
  const store = new ShardStore({ maxBytes: INDEX + 3 * 56 });
  store.set(write("k1", 7));
  store.set(write("k2", 7));
  store.set(write("k3", 7));
  assert.equal(charged(write("k4", 69)), 112);
  store.set(write("k4", 69)); // 112 bytes: k1 and k2 must go
  assert.equal(store.ttl("k1"), undefined);
  assert.equal(store.ttl("k2"), undefined);
  assert.equal(store.ttl("k3"), 0);
  assert.equal(store.ttl("k4"), 0);
  assert.equal(store.stats().bytes, INDEX + 56 + 112);
  assert.equal(store.stats().evictions, 2);
});

Deno.test("ShardStore counts neither overwrites nor deletes as evictions", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  store.set(write("k", 5));
  store.set(write("k", 6));
  store.delete("k");
  assert.equal(store.stats().evictions, 0);
});

Deno.test("ShardStore charges a header, UTF-8 key, UTF-8 type URL and value, rounded up to 8, plus its index", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  const a = write("ключ", 5, { typeUrl: "t/é" }); // 40 + 8 + 4 + 5 = 57
  const b = write("🔑", 3, { typeUrl: "type.example/日本" }); // 40 + 4 + 19 + 3 = 66
  assert.deepEqual([charged(a), charged(b)], [64, 72]);
  store.set(a);
  assert.equal(store.stats().bytes, INDEX + 64);
  store.set(b);
  assert.equal(store.stats().bytes, INDEX + 64 + 72);
  // Shrinking a to 53 bytes (56 rounded) reuses its freed 64-byte chunk
  // whole: the 8 bytes left over are too small to stand as a free chunk.
  store.set(write("ключ", 1, { typeUrl: "t/é" }));
  assert.equal(store.stats().bytes, INDEX + 64 + 72);
  store.delete("🔑");
  assert.equal(store.stats().bytes, INDEX + 64);
  const { bytes, indexBytes, arenaBytes } = store.stats();
  assert.deepEqual({ bytes, indexBytes, arenaBytes }, {
    bytes: INDEX + 64,
    indexBytes: INDEX,
    arenaBytes: 64 + 72, // b's chunk was handed out once: it stays resident
  });
});

Deno.test("ShardStore charges its index as it doubles: 8 bytes a slot, at most 3/4 full", () => {
  const store = new ShardStore({ maxBytes: 100_000 });
  for (let i = 0; i < 6; i++) store.set(write(`k${i}`, 0));
  assert.equal(store.stats().indexBytes, 64);
  store.set(write("k6", 0)); // 7 > 0.75 × 8 slots: 16 slots
  assert.equal(store.stats().indexBytes, 128);
  assert.equal(store.stats().bytes, 128 + 7 * 48);
});

Deno.test("ShardStore evicts the oldest entries until neighbours merge when no free chunk fits", () => {
  const store = new ShardStore({ maxBytes: INDEX + 4 * 56 });
  for (const key of ["k1", "k2", "k3", "k4"]) store.set(write(key, 7));
  store.delete("k1");
  store.delete("k3");
  // 112 bytes are free, in two 56-byte holes: a 112-byte entry fits the
  // budget but no hole, so k2 (the oldest) goes and the holes merge.
  store.set(write("k5", 69));
  assert.deepEqual(
    ["k2", "k4", "k5"].map((key) => store.ttl(key)),
    [undefined, 0, 0],
  );
  assert.deepEqual(
    { items: store.stats().items, evictions: store.stats().evictions },
    { items: 2, evictions: 1 },
  );
  assert.equal(store.stats().bytes, INDEX + 56 + 112);
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
    for (const [k, kw] of written) {
      if (store.ttl(k) !== undefined) {
        held += charged(kw);
        items++;
      }
    }
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
  const store = new ShardStore({ maxBytes: INDEX + 96 });
  store.set(write("a", 5, { fill: 7 })); // 48 bytes
  store.set(write("b", 5)); // 48 bytes
  const before = store.stats();
  assert.throws(
    () => store.set(write("c", 55)), // 40 + 1 + 1 + 55 = 97: 104 bytes
    (error: unknown) => {
      assert.ok(error instanceof ResourceExhaustedError);
      assert.equal(error.code, Status.RESOURCE_EXHAUSTED);
      assert.equal(error.code, 8);
      assert.equal(
        error.message,
        "entry is 104 bytes with its header: a shard holds at most 96",
      );
      return true;
    },
  );
  // Overwriting an existing key with an oversize value keeps the old value.
  assert.throws(() => store.set(write("a", 90)), ResourceExhaustedError);
  assert.deepEqual(store.stats(), before);
  assert.deepEqual(Array.from(store.get("a")!.value), [7, 7, 7, 7, 7]);
  assert.notEqual(store.get("b"), undefined);
  assert.equal(store.get("c"), undefined);
});

Deno.test("ShardStore accepts an entry of exactly maxBytes, evicting everything else", () => {
  const store = new ShardStore({ maxBytes: INDEX + 96 });
  store.set(write("a", 5));
  store.set(write("b", 54)); // 40 + 1 + 1 + 54 = 96
  assert.equal(store.ttl("a"), undefined);
  assert.deepEqual(
    { items: store.stats().items, bytes: store.stats().bytes },
    { items: 1, bytes: INDEX + 96 },
  );
});

Deno.test("ShardStore setMany writes every entry", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  store.setMany([write("a", 1, { fill: 1 }), write("b", 2, { fill: 2 })]);
  assert.deepEqual(Array.from(store.get("a")!.value), [1]);
  assert.deepEqual(Array.from(store.get("b")!.value), [2, 2]);
});

Deno.test("ShardStore setMany is all or none: one oversize item means none is written", () => {
  const store = new ShardStore({ maxBytes: INDEX + 96 });
  store.set(write("old", 3));
  const before = store.stats();
  assert.throws(
    () =>
      store.setMany([
        write("a", 1),
        write("b", 1),
        write("c", 60),
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
  store.set(write("short", 3, { ttlMs: 100 })); // 40 + 5 + 1 + 3: 56 bytes
  store.set(write("long", 3, { ttlMs: 1_000 })); // 40 + 4 + 1 + 3: 48 bytes
  store.set(write("none", 3)); // 48 bytes
  clock.t += 101;
  // Until purged, an expired entry still counts.
  assert.deepEqual(
    { items: store.stats().items, bytes: store.stats().bytes },
    { items: 3, bytes: INDEX + 152 },
  );
  store.purgeExpired();
  assert.deepEqual(
    {
      items: store.stats().items,
      bytes: store.stats().bytes,
      expirations: store.stats().expirations,
      evictions: store.stats().evictions,
    },
    { items: 2, bytes: INDEX + 96, expirations: 1, evictions: 0 },
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
    { items: 1, bytes: INDEX + 48, expirations: 2 },
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
    bytes: INDEX + 48,
    capacityBytes: 1_000,
    hits: 2,
    misses: 1,
    evictions: 0,
    expirations: 0,
    indexBytes: INDEX,
    arenaBytes: 48,
  });
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
