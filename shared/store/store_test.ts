/** Unit tests of {@linkcode ShardStore}: LRU by bytes, TTL and counters. */
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

/** The bytes a write is charged for, counted independently of the store. */
function charged(w: ShardWrite): number {
  const encoder = new TextEncoder();
  return encoder.encode(w.key).length + encoder.encode(w.value.typeUrl).length +
    w.value.value.byteLength;
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
    { items: 0, bytes: 0 },
  );
});

Deno.test("ShardStore evicts the least recently used entry, sparing a recently read one", () => {
  // Each entry: key 2 bytes + type URL 1 byte + value 7 bytes = 10 bytes.
  const store = new ShardStore({ maxBytes: 30 });
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
  const store = new ShardStore({ maxBytes: 30 });
  store.set(write("k1", 7));
  store.set(write("k2", 7));
  store.set(write("k3", 7));
  store.set(write("k4", 17)); // 20 bytes: k1 and k2 must go
  assert.equal(store.ttl("k1"), undefined);
  assert.equal(store.ttl("k2"), undefined);
  assert.equal(store.ttl("k3"), 0);
  assert.equal(store.ttl("k4"), 0);
  assert.equal(store.stats().bytes, 30);
  assert.equal(store.stats().evictions, 2);
});

Deno.test("ShardStore counts neither overwrites nor deletes as evictions", () => {
  const store = new ShardStore({ maxBytes: 100 });
  store.set(write("k", 5));
  store.set(write("k", 6));
  store.delete("k");
  assert.equal(store.stats().evictions, 0);
});

Deno.test("ShardStore charges UTF-8 key bytes + UTF-8 type URL bytes + value bytes", () => {
  const store = new ShardStore({ maxBytes: 1_000 });
  const a = write("ключ", 5, { typeUrl: "t/é" }); // 8 + 4 + 5
  const b = write("🔑", 3, { typeUrl: "type.example/日本" }); // 4 + 19 + 3
  store.set(a);
  assert.equal(store.stats().bytes, 17);
  store.set(b);
  assert.equal(store.stats().bytes, 17 + 26);
  assert.equal(charged(a) + charged(b), 43);
  store.set(write("ключ", 1, { typeUrl: "t/é" })); // shrink a to 13
  assert.equal(store.stats().bytes, 13 + 26);
  store.delete("🔑");
  assert.equal(store.stats().bytes, 13);
});

Deno.test("ShardStore bytes never exceed maxBytes and equal the charged sizes of the entries held", () => {
  const maxBytes = 500;
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
    assert.equal(stats.bytes, held);
    assert.equal(stats.items, items);
  }
  assert.ok(store.stats().evictions > 0);
});

Deno.test("ShardStore rejects an entry larger than maxBytes and leaves existing data untouched", () => {
  const store = new ShardStore({ maxBytes: 20 });
  store.set(write("a", 5, { fill: 7 })); // 7 bytes
  store.set(write("b", 5)); // 7 bytes
  const before = store.stats();
  assert.throws(
    () => store.set(write("c", 19)), // 1 + 1 + 19 = 21 bytes
    (error: unknown) => {
      assert.ok(error instanceof ResourceExhaustedError);
      assert.equal(error.code, Status.RESOURCE_EXHAUSTED);
      assert.equal(error.code, 8);
      assert.equal(
        error.message,
        "entry is 21 bytes: a shard holds at most 20",
      );
      return true;
    },
  );
  // Overwriting an existing key with an oversize value keeps the old value.
  assert.throws(() => store.set(write("a", 30)), ResourceExhaustedError);
  assert.deepEqual(store.stats(), before);
  assert.deepEqual(Array.from(store.get("a")!.value), [7, 7, 7, 7, 7]);
  assert.notEqual(store.get("b"), undefined);
  assert.equal(store.get("c"), undefined);
});

Deno.test("ShardStore accepts an entry of exactly maxBytes, evicting everything else", () => {
  const store = new ShardStore({ maxBytes: 20 });
  store.set(write("a", 5));
  store.set(write("b", 18)); // 1 + 1 + 18 = 20
  assert.equal(store.ttl("a"), undefined);
  assert.deepEqual(
    { items: store.stats().items, bytes: store.stats().bytes },
    { items: 1, bytes: 20 },
  );
});

Deno.test("ShardStore setMany writes every entry", () => {
  const store = new ShardStore({ maxBytes: 100 });
  store.setMany([write("a", 1, { fill: 1 }), write("b", 2, { fill: 2 })]);
  assert.deepEqual(Array.from(store.get("a")!.value), [1]);
  assert.deepEqual(Array.from(store.get("b")!.value), [2, 2]);
});

Deno.test("ShardStore setMany is all or none: one oversize item means none is written", () => {
  const store = new ShardStore({ maxBytes: 20 });
  store.set(write("old", 3));
  const before = store.stats();
  assert.throws(
    () =>
      store.setMany([
        write("a", 1),
        write("b", 1),
        write("c", 50),
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
    { hits: 1, misses: 1, expirations: 1, items: 0, bytes: 0 },
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
  store.set(write("short", 3, { ttlMs: 100 })); // 5 + 1 + 3 = 9 bytes
  store.set(write("long", 3, { ttlMs: 1_000 })); // 4 + 1 + 3 = 8 bytes
  store.set(write("none", 3)); // 4 + 1 + 3 = 8 bytes
  clock.t += 101;
  // Until purged, an expired entry still counts.
  assert.deepEqual(
    { items: store.stats().items, bytes: store.stats().bytes },
    { items: 3, bytes: 25 },
  );
  store.purgeExpired();
  assert.deepEqual(
    {
      items: store.stats().items,
      bytes: store.stats().bytes,
      expirations: store.stats().expirations,
      evictions: store.stats().evictions,
    },
    { items: 2, bytes: 16, expirations: 1, evictions: 0 },
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
    { items: 1, bytes: 8, expirations: 2 },
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
    bytes: 3,
    capacityBytes: 1_000,
    hits: 2,
    misses: 1,
    evictions: 0,
    expirations: 0,
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
