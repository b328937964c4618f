/** Unit tests of {@linkcode CacheOps}: counters, conditional writes, versions. */
import assert from "node:assert/strict";
import { CacheOps } from "./cache_ops.ts";
import { ShardStore } from "../store/store.ts";
import { GanacheError, Status } from "../wire/errors.ts";
import {
  decodeInt64Bytes,
  encodeInt64Bytes,
  INT64_MAX,
  INT64_MIN,
  INT64_VALUE_TYPE_URL,
} from "../wire/int64_bytes.ts";
import { encodeInt64 } from "../wire/values.ts";

function ops(now = () => 1000): CacheOps {
  return new CacheOps(new ShardStore({ maxBytes: 1 << 20 }), now);
}

function codeOf(run: () => unknown): number {
  try {
    run();
  } catch (error) {
    if (error instanceof GanacheError) return error.code;
    throw error;
  }
  throw new Error("expected an error");
}

const value = (byte: number) => ({
  typeUrl: "t",
  value: new Uint8Array([byte]),
});

Deno.test("Int64Value bytes match protobufjs over the whole int64 range", () => {
  for (const n of [0n, 1n, -1n, 300n, 2n ** 53n + 1n, INT64_MAX, INT64_MIN]) {
    assert.deepEqual(
      Array.from(encodeInt64Bytes(n)),
      Array.from(encodeInt64(n).value),
    );
    assert.equal(decodeInt64Bytes(encodeInt64(n).value), n);
  }
});

Deno.test("CacheOps stamps every write with a new, increasing version", () => {
  const cache = ops();
  const v1 = cache.set({ key: "k", value: value(1), ttlMs: 0 });
  const v2 = cache.set({ key: "k", value: value(2), ttlMs: 0 });
  assert.ok(v1 >= 1000 * 1000 && v2 > v1);
  assert.equal(cache.store.get("k")?.version, v2);
});

Deno.test("CacheOps increments from 0, exactly at the int64 limits", () => {
  const cache = ops();
  assert.equal(cache.increment("n", 5n, 0), 5n);
  assert.equal(cache.increment("n", -7n, 0), -2n);
  assert.equal(cache.increment("big", INT64_MAX - 1n, 0), INT64_MAX - 1n);
  assert.equal(cache.increment("big", 1n, 0), INT64_MAX);
  assert.equal(
    codeOf(() => cache.increment("big", 1n, 0)),
    Status.OUT_OF_RANGE,
  );
  assert.equal(cache.increment("low", INT64_MIN, 0), INT64_MIN);
  assert.equal(
    codeOf(() => cache.increment("low", -1n, 0)),
    Status.OUT_OF_RANGE,
  );
  const held = cache.store.get("big")!;
  assert.equal(held.typeUrl, INT64_VALUE_TYPE_URL);
  assert.equal(decodeInt64Bytes(held.value), INT64_MAX);
});

Deno.test("CacheOps refuses to increment a key of another type", () => {
  const cache = ops();
  cache.set({ key: "s", value: value(1), ttlMs: 0 });
  assert.equal(
    codeOf(() => cache.increment("s", 1n, 0)),
    Status.FAILED_PRECONDITION,
  );
});

Deno.test("CacheOps increment keeps the key's TTL unless given one", () => {
  let now = 0;
  const cache = new CacheOps(
    new ShardStore({ maxBytes: 1 << 20, now: () => now }),
    () => 1,
  );
  cache.increment("n", 1n, 5000);
  now = 1000;
  cache.increment("n", 1n, 0);
  assert.equal(cache.store.ttl("n"), 4000);
  cache.increment("n", 1n, 100);
  assert.equal(cache.store.ttl("n"), 100);
});

Deno.test("CacheOps setIf: only if absent, or only at a version", () => {
  const cache = ops();
  const v1 = cache.setIf({ key: "k", value: value(1), ttlMs: 0 }, {
    onlyIfAbsent: true,
  });
  assert.equal(
    codeOf(() =>
      cache.setIf({ key: "k", value: value(2), ttlMs: 0 }, {
        onlyIfAbsent: true,
      })
    ),
    Status.ALREADY_EXISTS,
  );
  assert.equal(
    codeOf(() =>
      cache.setIf({ key: "k", value: value(2), ttlMs: 0 }, {
        onlyIfAbsent: false,
        ifVersion: v1 + 1,
      })
    ),
    Status.ABORTED,
  );
  const v2 = cache.setIf({ key: "k", value: value(3), ttlMs: 0 }, {
    onlyIfAbsent: false,
    ifVersion: v1,
  });
  assert.ok(v2 > v1);
  assert.equal(
    codeOf(() =>
      cache.setIf({ key: "k", value: value(4), ttlMs: 0 }, {
        onlyIfAbsent: false,
        ifVersion: v1,
      })
    ),
    Status.ABORTED,
  );
  // Version 0: the key must be absent.
  assert.equal(
    codeOf(() =>
      cache.setIf({ key: "k", value: value(4), ttlMs: 0 }, {
        onlyIfAbsent: false,
        ifVersion: 0,
      })
    ),
    Status.ABORTED,
  );
  cache.setIf({ key: "new", value: value(4), ttlMs: 0 }, {
    onlyIfAbsent: false,
    ifVersion: 0,
  });
  assert.deepEqual(Array.from(cache.store.get("k")!.value), [3]);
});

Deno.test("CacheOps flush hides what was written before it, not after", () => {
  const cache = ops();
  cache.set({ key: "2:nsa", value: value(1), ttlMs: 0 });
  cache.flushNamespace("ns");
  assert.equal(cache.store.get("2:nsa"), undefined);
  cache.set({ key: "2:nsa", value: value(2), ttlMs: 0 });
  assert.deepEqual(Array.from(cache.store.get("2:nsa")!.value), [2]);
  assert.deepEqual(cache.deleteMany(["2:nsa", "2:nsb"]), [true, false]);
});
