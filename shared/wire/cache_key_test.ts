/** Unit tests of cache keys and their routing hash. */
import assert from "node:assert/strict";
import { cacheKey, hashKey } from "./cache_key.ts";
import {
  fmix32,
  fnv1a32,
  referenceShardOf,
} from "../../tests/reference_hash.ts";

Deno.test("cacheKey keeps namespace and key apart: (ab, c) differs from (a, bc)", () => {
  assert.notEqual(cacheKey("ab", "c"), cacheKey("a", "bc"));
  assert.equal(cacheKey("ab", "c"), "2:abc");
  assert.equal(cacheKey("a", "bc"), "1:abc");
});

Deno.test("cacheKey keeps an empty namespace apart from a key holding the prefix", () => {
  assert.notEqual(cacheKey("", "1:ab"), cacheKey("1", ":ab"));
  assert.equal(cacheKey("", "k"), "0:k");
});

Deno.test("hashKey is stable: pinned values never change", () => {
  // Computed once (and cross-checked with an independent Python FNV-1a +
  // fmix32 over UTF-16 code units); shard routing depends on them.
  assert.equal(hashKey(""), 2872998923);
  assert.equal(hashKey("1:demok"), 1498434505);
  assert.equal(hashKey("4:démo🔑"), 2822348907);
});

Deno.test("hashKey returns an unsigned 32-bit integer", () => {
  for (let i = 0; i < 1_000; i++) {
    const h = hashKey(cacheKey("ns", `key-${i}-é🔑`));
    assert.ok(Number.isInteger(h), `${h} is not an integer`);
    assert.ok(h >= 0 && h <= 0xffffffff, `${h} is out of range`);
  }
  // The empty key hashes above 2^31: it must not come out negative.
  assert.ok(hashKey("") > 2 ** 31);
});

Deno.test("hashKey spreads 10,000 keys evenly over 4 shards (each within ±10% of 2,500)", () => {
  const buckets = [0, 0, 0, 0];
  for (let i = 0; i < 10_000; i++) {
    const shard = hashKey(cacheKey("demo", `key-${i}`)) % 4;
    buckets[shard]!++;
  }
  for (const [shard, count] of buckets.entries()) {
    assert.ok(
      count >= 2_250 && count <= 2_750,
      `shard ${shard} got ${count} of 10000 keys: ${buckets.join(", ")}`,
    );
  }
});

Deno.test("the test reference hash matches the published FNV-1a and MurmurHash3 vectors", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  // FNV-1a 32-bit vectors from the FNV reference test suite.
  assert.equal(fnv1a32(bytes("")), 0x811c9dc5);
  assert.equal(fnv1a32(bytes("a")), 0xe40c292c);
  assert.equal(fnv1a32(bytes("foobar")), 0xbf9cf968);
  // MurmurHash3_x86_32 of the empty input is fmix32(seed): seed 0 gives 0,
  // seed 1 gives 0x514e28b7, seed 0xffffffff gives 0x81f16f39.
  assert.equal(fmix32(0), 0);
  assert.equal(fmix32(1), 0x514e28b7);
  assert.equal(fmix32(0xffffffff), 0x81f16f39);
});

Deno.test("hashKey places keys as the independent reference does", () => {
  for (const namespace of ["", "n", "démo", "🔑"]) {
    for (let i = 0; i < 2_000; i++) {
      const key = `key-${i}${i % 3 ? "é" : ""}${i % 5 ? "" : "🔑"}`;
      for (const count of [2, 3, 7]) {
        assert.equal(
          hashKey(cacheKey(namespace, key)) % count,
          referenceShardOf(namespace, key, count),
          `${namespace}/${key} of ${count}`,
        );
      }
    }
  }
});
