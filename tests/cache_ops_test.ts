/**
 * Counters, conditional writes, touch, multi-delete and namespace flush
 * through the real embedded service (`start`): atomicity under concurrent
 * clients, versions, and every error code.
 */
import assert from "node:assert/strict";
import { Status } from "../shared/wire/errors.ts";
import {
  encodeInt64,
  encodeString,
  INT64_TYPE_URL,
} from "../shared/wire/values.ts";
import { startTestService, statusOf } from "./helpers.ts";
import type { GanacheClient } from "../shared/client.ts";

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);

for (const frontendThreads of [1, 2]) {
  Deno.test(`8 clients × 1,000 concurrent increments of one key end at exactly 8,000 (${frontendThreads} frontend thread(s))`, async () => {
    await using t = await startTestService({ frontendThreads });
    const clients = await Promise.all(
      Array.from({ length: 8 }, () => t.connect(true)),
    );
    // Each client keeps 100 increments in flight (a connection's stream
    // limit), 10 after another in each lane, so that no call queues behind
    // a thousand others for its deadline.
    const lane = async (client: GanacheClient) => {
      const sums: bigint[] = [];
      for (let i = 0; i < 10; i++) {
        sums.push(await client.namespace("count").increment("hits", 1));
      }
      return sums;
    };
    const results = await Promise.all(
      clients.flatMap((client) =>
        Array.from({ length: 100 }, () => lane(client))
      ),
    );
    const seen = new Set(results.flat());
    // Every increment saw its own value: none was lost or applied twice.
    assert.equal(seen.size, 8000);
    assert.equal(await clients[0]!.namespace("count").getInt64("hits"), 8000n);
  });
}

Deno.test("Increment is exact over the whole int64 range and refuses overflow and other types", async () => {
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("n");
  assert.equal(await ns.increment("a", 5), 5n);
  assert.equal(await ns.increment("a", -7n), -2n);
  assert.equal(await ns.increment("big", MAX - 1n), MAX - 1n);
  assert.equal(await ns.increment("big", 1n), MAX);
  assert.equal(await ns.getInt64("big"), MAX);
  assert.equal(
    await statusOf(ns.increment("big", 1n)),
    Status.OUT_OF_RANGE,
  );
  assert.equal(await ns.getInt64("big"), MAX);
  await ns.setInt64("low", MIN + 1n);
  assert.equal(await ns.increment("low", -1n), MIN);
  assert.equal(await statusOf(ns.increment("low", -1n)), Status.OUT_OF_RANGE);
  assert.equal((await ns.get("a"))?.typeUrl, INT64_TYPE_URL);
  await ns.setString("text", "hello");
  assert.equal(
    await statusOf(ns.increment("text", 1)),
    Status.FAILED_PRECONDITION,
  );
  assert.equal(await ns.getString("text"), "hello");
});

Deno.test("Increment keeps a key's TTL unless given one", async () => {
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("n");
  await ns.increment("k", 1, { ttlMs: 3_600_000 });
  await ns.increment("k", 1);
  const left = (await ns.ttl("k"))!;
  assert.ok(left > 3_500_000 && left <= 3_600_000, `ttl ${left}`);
  await ns.increment("fresh", 1);
  assert.equal(await ns.ttl("fresh"), 0);
});

Deno.test("Get and MultiGet return a version that every write of the key raises", async () => {
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("v");
  await ns.setString("k", "one");
  const first = (await ns.getWithVersion("k"))!;
  assert.ok(first.version > 0);
  await ns.setString("k", "two");
  const second = (await ns.getWithVersion("k"))!;
  assert.ok(second.version > first.version);
  const many = await ns.multiGetWithVersion(["k", "missing"]);
  assert.equal(many[0]?.version, second.version);
  assert.equal(many[1], undefined);
  assert.equal(await ns.getWithVersion("missing"), undefined);
});

Deno.test("setIfAbsent writes once; a second is ALREADY_EXISTS", async () => {
  await using t = await startTestService();
  const client = await t.connect();
  const ns = client.namespace("c");
  assert.equal(await ns.setIfAbsent("k", encodeString("a")), true);
  assert.equal(await ns.setIfAbsent("k", encodeString("b")), false);
  assert.equal(await ns.getString("k"), "a");
  assert.equal(
    await statusOf(client.cfe("Set", {
      namespace: "c",
      key: "k",
      data: encodeString("c"),
      ttlMs: 0,
      onlyIfAbsent: true,
    })),
    Status.ALREADY_EXISTS,
  );
});

Deno.test("setIfVersion: of two concurrent writes at one version exactly one succeeds", async () => {
  await using t = await startTestService();
  const clientA = await t.connect(true);
  const a = clientA.namespace("cas");
  const b = (await t.connect(true)).namespace("cas");
  // Version 0: only while the key is absent.
  assert.equal(await a.setIfVersion("k", encodeInt64(0n), 0), true);
  assert.equal(await a.setIfVersion("k", encodeInt64(0n), 0), false);
  for (let round = 1; round <= 50; round++) {
    const { version } = (await a.getWithVersion("k"))!;
    const won = await Promise.all([
      a.setIfVersion("k", encodeInt64(BigInt(round)), version),
      b.setIfVersion("k", encodeInt64(BigInt(-round)), version),
    ]);
    assert.equal(won.filter((w) => w).length, 1, `round ${round}: ${won}`);
    assert.equal(
      await a.getInt64("k"),
      won[0] ? BigInt(round) : BigInt(-round),
    );
  }
  const stale = (await a.getWithVersion("k"))!.version - 1;
  assert.equal(
    await statusOf(clientA.cfe("Set", {
      namespace: "cas",
      key: "k",
      data: encodeInt64(1n),
      ttlMs: 0,
      ifVersion: stale,
    })),
    Status.ABORTED,
  );
});

Deno.test("Touch sets or removes a TTL without rewriting the key", async () => {
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("t");
  await ns.setString("k", "v", { ttlMs: 1000 });
  const { version } = (await ns.getWithVersion("k"))!;
  assert.equal(await ns.touch("k", 3_600_000), true);
  assert.ok((await ns.ttl("k"))! > 1000);
  assert.equal(await ns.touch("k", 0), true);
  assert.equal(await ns.ttl("k"), 0);
  assert.equal((await ns.getWithVersion("k"))!.version, version);
  assert.equal(await ns.getString("k"), "v");
  assert.equal(await ns.touch("missing", 1000), false);
});

Deno.test("MultiDelete answers per key whether it was there, across shards", async () => {
  await using t = await startTestService({ workers: 3 });
  const ns = (await t.connect()).namespace("d");
  const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
  await ns.multiSetString(
    keys.filter((_, i) => i % 2 === 0).map((k): [string, string] => [k, k]),
  );
  const existed = await ns.deleteMany(keys);
  assert.deepEqual(existed, keys.map((_, i) => i % 2 === 0));
  assert.deepEqual(await ns.multiGet(keys), keys.map(() => undefined));
  assert.deepEqual(await ns.deleteMany(["k0"]), [false]);
});

Deno.test("FlushNamespace hides 100,000 keys of one namespace and leaves the others", async () => {
  await using t = await startTestService();
  const client = await t.connect();
  const big = client.namespace("big");
  const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}`);
  for (let i = 0; i < keys.length; i += 10_000) {
    await big.multiSetString(
      keys.slice(i, i + 10_000).map((k): [string, string] => [k, "x"]),
    );
  }
  const other = client.namespace("bigger");
  await other.multiSetString(
    keys.slice(0, 100).map((k): [string, string] => [k, "kept"]),
  );
  await big.flushNamespace();
  for (let i = 0; i < keys.length; i += 10_000) {
    const values = await big.multiGet(keys.slice(i, i + 10_000));
    assert.ok(values.every((v) => v === undefined));
  }
  assert.deepEqual(
    await other.multiGetString(keys.slice(0, 100)),
    keys.slice(0, 100).map(() => "kept"),
  );
  // Writes after the flush are seen.
  await big.setString("k1", "new");
  assert.equal(await big.getString("k1"), "new");
  // Stats drops what the flush hid: items are current again.
  const stats = await client.stats();
  assert.equal(stats.shards.reduce((n, s) => n + s.items, 0), 101);
});

Deno.test("The new methods refuse a namespace the ACL does not grant, and bad input", async () => {
  const acl = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(acl, JSON.stringify({ client: ["mine"] }));
    await using t = await startTestService({ acl });
    const client = await t.connect();
    const theirs = client.namespace("theirs");
    const denied = [
      () => theirs.increment("k", 1),
      () => theirs.setIfAbsent("k", encodeString("v")),
      () => theirs.setIfVersion("k", encodeString("v"), 0),
      () => theirs.touch("k", 0),
      () => theirs.deleteMany(["k"]),
      () => theirs.flushNamespace(),
      () => theirs.getWithVersion("k"),
    ];
    for (const call of denied) {
      assert.equal(await statusOf(call()), Status.PERMISSION_DENIED);
    }
    const mine = client.namespace("mine");
    assert.equal(await mine.increment("k", 1), 1n);
    assert.equal(
      await statusOf(mine.increment("", 1)),
      Status.INVALID_ARGUMENT,
    );
    assert.equal(
      await statusOf(mine.deleteMany(Array(10_001).fill("k"))),
      Status.INVALID_ARGUMENT,
    );
  } finally {
    await Deno.remove(acl);
  }
});
