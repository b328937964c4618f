/**
 * Unit tests of {@linkcode ShardStore}: versions, the recency-ordered
 * dump, every length boundary, and no byte leaked under churn.
 */
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../wire/errors.ts";
import type { ShardWrite } from "../wire/shard.ts";
import { ShardStore } from "./store.ts";

function versioned(key: string, fill: number, version: number): ShardWrite {
  return {
    key,
    value: { typeUrl: "t", value: new Uint8Array([fill]) },
    ttlMs: 0,
    version,
  };
}

Deno.test("ShardStore keeps the newest version, and on a tie the greater bytes, in any arrival order", () => {
  for (const order of [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]]) {
    const store = new ShardStore({ maxBytes: 10_000 });
    const writes = [
      versioned("k", 9, 100),
      versioned("k", 1, 300),
      versioned("k", 5, 300), // same version, greater value: wins
      versioned("k", 7, 200),
    ];
    for (const i of order) store.set(writes[i]!);
    const got = store.get("k")!;
    assert.deepEqual([got.version, [...got.value]], [300, [5]], `${order}`);
  }
});

Deno.test("ShardStore writes() yields live entries oldest first, with remaining TTL and version, and reloads to the same recency", () => {
  const clock = { t: 5_000 };
  const store = new ShardStore({ maxBytes: 10_000, now: () => clock.t });
  store.set(versioned("a", 1, 10));
  store.set({ ...versioned("b", 2, 20), ttlMs: 1_000 });
  store.set({ ...versioned("c", 3, 30), ttlMs: 10 });
  store.get("a"); // a becomes the newest
  clock.t += 400; // c expires
  const dumped = [...store.writes()];
  assert.deepEqual(
    dumped.map((w) => [w.key, w.ttlMs, w.version, [...w.value.value]]),
    [["b", 600, 20, [2]], ["a", 0, 10, [1]]],
  );
  // Reloaded in order into a store with room for two: a third write evicts b.
  // Index 64 + type URL "t" (128 + 2) + two 48-byte entries.
  const copy = new ShardStore({ maxBytes: 64 + 130 + 2 * 48 });
  for (const w of dumped) copy.set(w);
  copy.set(versioned("d", 4, 40));
  assert.deepEqual(["a", "b", "d"].map((k) => copy.ttl(k)), [0, undefined, 0]);
});

Deno.test("ShardStore holds type URLs and values at every length boundary byte for byte, and refuses what its 16-bit fields cannot hold", () => {
  const store = new ShardStore({ maxBytes: 8 << 20 });
  const lengths = [0, 1, 255, 256, 65_535];
  for (const urlLength of lengths) {
    for (const valueLength of [...lengths, 65_536, 1 << 20]) {
      const typeUrl = "u".repeat(urlLength);
      const value = new Uint8Array(valueLength).map((_, i) => i * 7 + 3);
      store.set({
        key: `${urlLength}/${valueLength}`,
        value: { typeUrl, value },
        ttlMs: 0,
      });
      const got = store.get(`${urlLength}/${valueLength}`)!;
      assert.equal(got.typeUrl, typeUrl);
      assert.deepEqual(got.value, value);
    }
  }
  const tooLong = { typeUrl: "u".repeat(65_536), value: new Uint8Array(1) };
  assert.throws(
    () => store.set({ key: "x", value: tooLong, ttlMs: 0 }),
    (error: unknown) =>
      error instanceof InvalidArgumentError &&
      error.message ===
        "type URL is 65536 bytes: the store holds at most 65535",
  );
  assert.throws(
    () =>
      store.set({
        key: "k".repeat(65_536),
        value: { typeUrl: "t", value: new Uint8Array(1) },
        ttlMs: 0,
      }),
    InvalidArgumentError,
  );
  assert.equal(store.get("x"), undefined);
});

Deno.test("ShardStore leaks no byte after a million overwrites, deletes, touches and evictions", () => {
  const maxBytes = 1 << 20;
  const store = new ShardStore({ maxBytes });
  let seed = 99;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const keys = 5_000;
  const values = [0, 10, 100, 1_000, 5_000].map((n) => new Uint8Array(n));
  for (let i = 0; i < 1_000_000; i++) {
    const key = `key-${next() % keys}`;
    // The high bits: an LCG's low bits repeat with short periods.
    const op = (next() >>> 16) % 8;
    // Long TTLs (none expires during the test), with and without a field.
    if (op < 2) store.delete(key);
    else if (op === 2) {
      store.touch(key, (next() >>> 16) % 2 === 0 ? 0 : 600_000);
    } else {
      store.set({
        key,
        value: { typeUrl: "t", value: values[next() % values.length]! },
        ttlMs: (next() >>> 16) % 3 === 0 ? 600_000 : 0,
      });
    }
  }
  const full = store.stats();
  assert.ok(full.bytes <= maxBytes && full.evictions > 0);
  for (let k = 0; k < keys; k++) store.delete(`key-${k}`);
  assert.equal(store.stats().items, 0);
  const { bytes, indexBytes, arenaBytes } = store.stats();
  assert.equal(bytes - indexBytes, 0);
  assert.ok(arenaBytes > 0 && arenaBytes <= maxBytes - indexBytes);
});

Deno.test("ShardStore set() answers the version the key holds afterwards", () => {
  const store = new ShardStore({ maxBytes: 10_000 });
  assert.equal(store.set(versioned("k", 1, 200)), 200);
  assert.equal(store.set(versioned("k", 2, 100)), 200); // older: not applied
  assert.equal(store.set(versioned("k", 3, 300)), 300);
  assert.equal(store.set({ ...versioned("k", 4, 0), version: undefined }), 0);
  assert.deepEqual([...store.get("k")!.value], [4]);
});

Deno.test("ShardStore tombstones: a versioned delete hides the key, keeps older writes out, travels in writes() and expires", () => {
  const clock = { t: 1_000 };
  const store = new ShardStore({
    maxBytes: 10_000,
    now: () => clock.t,
    tombstoneTtlMs: 5_000,
  });
  store.set(versioned("k", 1, 100));
  assert.equal(store.delete("k", 200), true);
  assert.equal(store.delete("k", 150), false); // older than the tombstone
  assert.equal(store.get("k"), undefined);
  assert.equal(store.ttl("k"), undefined);
  assert.equal(store.set(versioned("k", 2, 150)), 200); // stays deleted
  assert.equal(store.get("k"), undefined);
  const { items, bytes, indexBytes } = store.stats();
  // 40-byte header (a tombstone's TTL needs the expiry field) + 1-byte key:
  // a 48-byte tombstone, charged, not an item.
  assert.deepEqual({ items, data: bytes - indexBytes }, { items: 0, data: 48 });
  const dumped = [...store.writes()];
  assert.deepEqual(
    dumped.map((w) => [w.key, w.version, w.tombstone, w.ttlMs]),
    [["k", 200, true, 5_000]],
  );
  // A join copy carries the delete: the copy refuses the older write too.
  const copy = new ShardStore({ maxBytes: 10_000 });
  copy.set(dumped[0]!);
  assert.equal(copy.set(versioned("k", 3, 150)), 200);
  assert.equal(copy.get("k"), undefined);
  assert.equal(store.set(versioned("k", 4, 300)), 300); // newer: back
  assert.deepEqual([...store.get("k")!.value], [4]);
  store.delete("k", 400);
  clock.t += 5_001;
  store.purgeExpired();
  const after = store.stats();
  assert.deepEqual(
    {
      items: after.items,
      data: after.bytes - after.indexBytes,
      expirations: after.expirations,
    },
    { items: 0, data: 0, expirations: 0 },
  );
  assert.equal(store.set(versioned("k", 5, 150)), 150); // the tombstone is gone
});

Deno.test("ShardStore keys() and writeOf() read what writes() would, key by key, counting no hit or miss", () => {
  const clock = { t: 1_000 };
  const store = new ShardStore({ maxBytes: 10_000, now: () => clock.t });
  store.set(versioned("a", 1, 10));
  store.set({ ...versioned("b", 2, 20), ttlMs: 500 });
  store.delete("c", 30); // a tombstone
  store.set({ ...versioned("d", 4, 40), ttlMs: 10 });
  clock.t += 100; // d expires
  assert.deepEqual([...store.keys()], ["a", "b", "c"]);
  assert.deepEqual(
    ["a", "b", "c"].map((key) => store.writeOf(key)),
    [...store.writes()],
  );
  assert.deepEqual(store.writeOf("c"), {
    key: "c",
    value: { typeUrl: "", value: new Uint8Array(0) },
    ttlMs: 600_000 - 100, // the default tombstone TTL, 100 ms later
    version: 30,
    tombstone: true,
  });
  assert.equal(store.writeOf("d"), undefined);
  assert.equal(store.writeOf("never"), undefined);
  const { hits, misses } = store.stats();
  assert.deepEqual({ hits, misses }, { hits: 0, misses: 0 });
});
