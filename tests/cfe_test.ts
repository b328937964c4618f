/** End-to-end tests of every CFE method through the typed client. */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { encodeString, STRING_TYPE_URL } from "../shared/wire/values.ts";
import { assertAny, startTestService, statusOf } from "./helpers.ts";

Deno.test("Set then Get returns the value byte for byte, type URL included", async () => {
  await using t = await startTestService();
  const demo = (await t.connect()).namespace("demo");
  const raw = {
    typeUrl: "example.com/my.Type",
    value: new Uint8Array([0, 1, 2, 255]),
  };
  await demo.set("raw", raw);
  const got = await demo.get("raw");
  assert.equal(got?.typeUrl, "example.com/my.Type");
  assert.deepEqual(Array.from(got!.value), [0, 1, 2, 255]);
});

Deno.test("a miss is NOT_FOUND on the wire and undefined in the client", async () => {
  await using t = await startTestService();
  const client = await t.connect();
  assert.equal(
    await statusOf(client.cfe("Get", { namespace: "demo", key: "nope" })),
    grpc.status.NOT_FOUND,
  );
  assert.equal(await client.namespace("demo").getString("nope"), undefined);
});

Deno.test("typed values round-trip: string, int64, bytes, JSON", async () => {
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("types");
  await ns.setString("s", "héllo wörld");
  await ns.setInt64("i", -(2n ** 63n));
  await ns.setInt64("j", 2n ** 63n - 1n);
  await ns.setBytes("b", new Uint8Array([9, 8, 7]));
  await ns.setJSON("o", { a: [1, 2, { b: null }], c: "d" });
  assert.equal(await ns.getString("s"), "héllo wörld");
  assert.equal(await ns.getInt64("i"), -(2n ** 63n));
  assert.equal(await ns.getInt64("j"), 2n ** 63n - 1n);
  assert.deepEqual(Array.from((await ns.getBytes("b"))!), [9, 8, 7]);
  assert.deepEqual(await ns.getJSON("o"), { a: [1, 2, { b: null }], c: "d" });
  await assert.rejects(
    ns.getInt64("s"),
    /expected type.googleapis.com\/google.protobuf.Int64Value/,
  );
});

Deno.test("namespace and key never collide: (ab, c) and (a, bc) are two keys", async () => {
  await using t = await startTestService();
  const client = await t.connect();
  await client.namespace("ab").setString("c", "first");
  await client.namespace("a").setString("bc", "second");
  assert.equal(await client.namespace("ab").getString("c"), "first");
  assert.equal(await client.namespace("a").getString("bc"), "second");
});

Deno.test("Delete tells whether the key existed and removes it", async () => {
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("demo");
  await ns.setString("k", "v");
  assert.equal(await ns.delete("k"), true);
  assert.equal(await ns.delete("k"), false);
  assert.equal(await ns.getString("k"), undefined);
});

Deno.test("MultiSet then MultiGet answers in request order, misses included", async () => {
  await using t = await startTestService({ workers: 3 });
  const ns = (await t.connect()).namespace("multi");
  const keys = Array.from({ length: 50 }, (_, i) => `key-${i}`);
  await ns.multiSet(
    keys.map((key) => ({ key, value: encodeString(`value of ${key}`) })),
  );
  const asked = ["missing-1", ...keys.slice().reverse(), "missing-2"];
  const values = await ns.multiGet(asked);
  assert.equal(values.length, asked.length);
  assert.equal(values[0], undefined);
  assert.equal(values.at(-1), undefined);
  asked.slice(1, -1).forEach((key, i) => {
    assert.equal(values[i + 1]?.typeUrl, STRING_TYPE_URL);
    assertAny(values[i + 1], encodeString(`value of ${key}`));
  });
});

Deno.test("a MultiSet of 1 MiB (values packed for the workers from one large request) reads back byte for byte", async () => {
  await using t = await startTestService({ workers: 3 });
  const ns = (await t.connect()).namespace("large");
  const keys = Array.from({ length: 1024 }, (_, i) => `key-${i}`);
  const valueOf = (i: number) =>
    Uint8Array.from({ length: 1024 }, (_, j) => (i * 7 + j) % 251);
  await ns.multiSet(
    keys.map((key, i) => ({ key, value: { typeUrl: "t", value: valueOf(i) } })),
  );
  const values = await ns.multiGet(keys);
  values.forEach((value, i) => {
    assert.equal(value?.typeUrl, "t");
    assert.deepEqual(new Uint8Array(value!.value), valueOf(i), `key-${i}`);
  });
});

Deno.test("TTL: a key expires after its ttl_ms and TTL reports what is left", async () => {
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("ttl");
  // An hour is left whatever the machine's speed; 1 ms is gone after the
  // 5 ms sleep below. That sleep is the one wall-clock wait here, and it
  // cannot flake: a timer never fires early, and expiry is measured in time.
  await ns.setString("long", "v", { ttlMs: 3_600_000 });
  await ns.setString("short", "v", { ttlMs: 1 });
  await ns.setString("forever", "v");
  const left = await ns.ttl("long");
  assert.ok(
    left !== undefined && left > 3_000_000 && left <= 3_600_000,
    `left: ${left}`,
  );
  assert.equal(await ns.ttl("forever"), 0);
  assert.equal(await ns.ttl("absent"), undefined);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(await ns.getString("short"), undefined);
  assert.equal(await ns.ttl("short"), undefined);
  assert.equal(await ns.getString("forever"), "v");
});

Deno.test("MultiSet items carry their own TTL", async () => {
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("ttl");
  await ns.multiSet([
    { key: "a", value: encodeString("a"), ttlMs: 1 },
    { key: "b", value: encodeString("b") },
  ]);
  // A timer never fires early: 1 ms of TTL is gone after 5 ms.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const [a, b] = await ns.multiGet(["a", "b"]);
  assert.equal(a, undefined);
  assertAny(b, encodeString("b"));
});

Deno.test("Stats counts items, bytes, hits and misses per shard", async () => {
  await using t = await startTestService({ workers: 2, maxBytes: 1000 });
  const client = await t.connect();
  const ns = client.namespace("s");
  await ns.setString("k1", "v1");
  await ns.getString("k1");
  await ns.getString("k1");
  await ns.getString("nope");
  const { shards } = await client.stats();
  assert.equal(shards.length, 2);
  const total = (field: "items" | "hits" | "misses" | "bytes") =>
    shards.reduce((sum, shard) => sum + shard[field], 0);
  assert.equal(total("items"), 1);
  assert.equal(total("hits"), 2);
  assert.equal(total("misses"), 1);
  // A 32-byte entry header + "1:sk1" (5) + StringValue("v1") (4) = 41: the
  // arena's smallest chunk, 48; its type URL, held once: 128 + 2 × 47; and
  // each shard's empty index (8 slots of 4 bytes).
  assert.equal(STRING_TYPE_URL.length, 47);
  assert.equal(total("bytes"), 48 + 128 + 2 * 47 + 2 * 32);
  assert.deepEqual(shards.map((s) => s.indexBytes), [32, 32]);
  assert.deepEqual(
    shards.map((s) => s.arenaBytes).sort((a, b) => a - b),
    [0, 48],
  );
  const { residentBytes } = await client.stats();
  assert.ok(residentBytes > 20 * 2 ** 20, `resident ${residentBytes}`);
  assert.deepEqual(
    shards.map((s) => [s.shard, s.location, s.capacityBytes, s.restarts]),
    [
      [0, "worker", 500, 0],
      [1, "worker", 500, 0],
    ],
  );
});

Deno.test("eviction keeps the bytes held under --max-bytes", async () => {
  const maxBytes = 64 * 1024;
  await using t = await startTestService({ workers: 2, maxBytes });
  const client = await t.connect();
  const ns = client.namespace("evict");
  const value = { typeUrl: "t", value: new Uint8Array(1000) };
  for (let i = 0; i < 40; i++) {
    await ns.multiSet(
      Array.from({ length: 10 }, (_, j) => ({ key: `k${i}-${j}`, value })),
    );
  }
  const { shards } = await client.stats();
  const bytes = shards.reduce((sum, s) => sum + s.bytes, 0);
  const evictions = shards.reduce((sum, s) => sum + s.evictions, 0);
  const items = shards.reduce((sum, s) => sum + s.items, 0);
  assert.ok(bytes <= maxBytes, `bytes ${bytes} > ${maxBytes}`);
  assert.ok(
    bytes > maxBytes * 0.9,
    `bytes ${bytes}: the cache should be nearly full`,
  );
  assert.equal(items + evictions, 400);
  // The newest key survives, the oldest was evicted.
  assertAny(await ns.get("k39-9"), value);
  assert.equal(await ns.get("k0-0"), undefined);
});

Deno.test("health is SERVING once all shards are up", async () => {
  await using t = await startTestService();
  const client = await t.connect();
  assert.equal(await client.health(), "SERVING");
  assert.equal(await client.health("ganache.cfe.CFE"), "SERVING");
  assert.equal(
    await statusOf(client.health("no.such.Service")),
    grpc.status.NOT_FOUND,
  );
});
