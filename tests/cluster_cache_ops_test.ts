/**
 * Counters, conditional writes, touch, multi-delete and namespace flush
 * through a cluster frontend (`cfe`) to shards of two replicas: one replica
 * decides, the other receives its results, and a replica killed in the
 * middle loses no acknowledged increment and doubles none. Real etcd, real
 * shard and frontend processes (see `cluster.ts`).
 */
import assert from "node:assert/strict";
import { GanacheClient } from "../shared/client.ts";
import { Status } from "../shared/wire/errors.ts";
import {
  encodeInt64,
  encodeString,
  INT64_TYPE_URL,
} from "../shared/wire/values.ts";
import { Cluster, type ShardProcess } from "./cluster.ts";
import { statusOf } from "./helpers.ts";

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);

/** One shard of two ready replicas, a frontend, and its client. */
async function twoReplicas(cluster: Cluster, cfeArgs: string[] = []) {
  const first = await cluster.shard(["--shards", "1"]);
  const second = await cluster.shard();
  await cluster.waitForRegistrations((r) =>
    r.filter((x) => x.state === "ready").length === 2
  );
  const cfe = await cluster.cfe(cfeArgs);
  // The decider is the first ready replica by address.
  const [decider, other] = [first, second].sort((a, b) =>
    a.address < b.address ? -1 : 1
  ) as [ShardProcess, ShardProcess];
  return { cfe, decider, other };
}

/**
 * 8 clients, each with 100 lanes of 10 increments one after another;
 * `during` runs once `after` of them are acknowledged.
 */
async function eightThousand(
  cluster: Cluster,
  address: string,
  during?: { after: number; run: () => void },
): Promise<{ sums: bigint[]; failed: number }> {
  const clients = await Promise.all(
    Array.from(
      { length: 8 },
      () => GanacheClient.connect({ address, certs: cluster.certs }),
    ),
  );
  let acknowledged = 0, failed = 0;
  const sums: bigint[] = [];
  const lane = async (client: GanacheClient) => {
    for (let i = 0; i < 10; i++) {
      try {
        sums.push(await client.namespace("count").increment("hits", 1));
        if (++acknowledged === during?.after) during.run();
      } catch {
        failed++;
      }
    }
  };
  try {
    await Promise.all(
      clients.flatMap((client) =>
        Array.from({ length: 100 }, () => lane(client))
      ),
    );
  } finally {
    clients.forEach((client) => client.close());
  }
  return { sums, failed };
}

Deno.test("cluster: 8 clients × 1,000 concurrent increments of one key end at exactly 8,000, on both replicas", async () => {
  await using cluster = await Cluster.start();
  const { cfe } = await twoReplicas(cluster);
  const { sums, failed } = await eightThousand(cluster, cfe.address);
  assert.equal(failed, 0);
  // Every increment saw its own sum: none was lost or applied twice.
  assert.equal(new Set(sums).size, 8000);
  // Reads rotate over the replicas: both hold the same.
  for (let i = 0; i < 4; i++) {
    assert.equal(await cfe.client.namespace("count").getInt64("hits"), 8000n);
  }
});

for (const victim of ["decider", "other"] as const) {
  Deno.test(`cluster: 8,000 increments end at exactly 8,000 while the ${victim} replica is SIGKILLed`, async () => {
    await using cluster = await Cluster.start();
    const replicas = await twoReplicas(cluster);
    const { sums, failed } = await eightThousand(
      cluster,
      replicas.cfe.address,
      { after: 2000, run: () => replicas[victim].process.kill("SIGKILL") },
    );
    const final = await replicas.cfe.client.namespace("count").getInt64("hits");
    // Nothing acknowledged lost, nothing applied twice...
    assert.ok(final! >= BigInt(sums.length), `${final} < ${sums.length}`);
    assert.ok(final! <= 8000n, `${final} > 8000`);
    assert.equal(new Set(sums).size, sums.length);
    // ...and the retry with the same request id made every call succeed.
    assert.equal(failed, 0);
    assert.equal(final, 8000n);
    assert.match(replicas.cfe.process.log, /out of rotation/);
  });
}

Deno.test("cluster: of two concurrent if_version writes through two frontends exactly one succeeds; of only_if_absent races exactly one", async () => {
  await using cluster = await Cluster.start();
  const { cfe } = await twoReplicas(cluster);
  const second = await cluster.cfe();
  const a = cfe.client.namespace("cas");
  const b = second.client.namespace("cas");
  assert.equal(await a.setIfVersion("k", encodeInt64(0n), 0), true);
  assert.equal(await b.setIfVersion("k", encodeInt64(0n), 0), false);
  for (let round = 1; round <= 30; round++) {
    const { version } = (await a.getWithVersion("k"))!;
    assert.ok(version > 0);
    const won = await Promise.all([
      a.setIfVersion("k", encodeInt64(BigInt(round)), version),
      b.setIfVersion("k", encodeInt64(BigInt(-round)), version),
    ]);
    assert.equal(won.filter((w) => w).length, 1, `round ${round}: ${won}`);
    const expected = won[0] ? BigInt(round) : BigInt(-round);
    assert.equal(await a.getInt64("k"), expected);
    assert.equal(await b.getInt64("k"), expected);
    const absent = await Promise.all(
      [a, b, a, b].map((ns, i) =>
        ns.setIfAbsent(`new-${round}`, encodeString(`writer ${i}`))
      ),
    );
    assert.equal(absent.filter((w) => w).length, 1, `round ${round}`);
    const winner = absent.indexOf(true);
    assert.equal(await b.getString(`new-${round}`), `writer ${winner}`);
  }
});

Deno.test("cluster: touch, multi-delete and flush; every error code", async () => {
  await using cluster = await Cluster.start();
  const { cfe } = await twoReplicas(cluster);
  const client = cfe.client;
  const ns = client.namespace("ops");
  // Touch keeps the value and version, changes the TTL, on every replica.
  await ns.setString("k", "v", { ttlMs: 1000 });
  const { version } = (await ns.getWithVersion("k"))!;
  assert.equal(await ns.touch("k", 3_600_000), true);
  for (let i = 0; i < 4; i++) assert.ok((await ns.ttl("k"))! > 1000);
  assert.equal(await ns.touch("k", 0), true);
  for (let i = 0; i < 4; i++) {
    assert.equal(await ns.ttl("k"), 0);
    assert.equal((await ns.getWithVersion("k"))!.version, version);
  }
  assert.equal(await ns.touch("missing", 1000), false);
  // Multi-delete answers per key.
  const keys = Array.from({ length: 20 }, (_, i) => `d${i}`);
  await ns.multiSetString(
    keys.filter((_, i) => i % 2 === 0).map((k): [string, string] => [k, k]),
  );
  assert.deepEqual(
    await ns.deleteMany(keys),
    keys.map((_, i) => i % 2 === 0),
  );
  assert.deepEqual(await ns.multiGet(keys), keys.map(() => undefined));
  // Increment: exact over int64, its TTL kept, refusals.
  assert.equal(await ns.increment("big", MAX - 1n), MAX - 1n);
  assert.equal(await ns.increment("big", 1n), MAX);
  assert.equal(await statusOf(ns.increment("big", 1n)), Status.OUT_OF_RANGE);
  await ns.setInt64("low", MIN + 1n);
  assert.equal(await ns.increment("low", -1n), MIN);
  assert.equal(await statusOf(ns.increment("low", -1n)), Status.OUT_OF_RANGE);
  assert.equal((await ns.get("big"))?.typeUrl, INT64_TYPE_URL);
  assert.equal(
    await statusOf(ns.increment("k", 1)),
    Status.FAILED_PRECONDITION,
  );
  assert.equal(await ns.getString("k"), "v");
  await ns.increment("ttl", 1, { ttlMs: 3_600_000 });
  await ns.increment("ttl", 1);
  assert.ok((await ns.ttl("ttl"))! > 3_500_000);
  // Conditional writes.
  assert.equal(
    await statusOf(client.cfe("Set", {
      namespace: "ops",
      key: "k",
      data: encodeString("x"),
      ttlMs: 0,
      onlyIfAbsent: true,
    })),
    Status.ALREADY_EXISTS,
  );
  assert.equal(
    await statusOf(client.cfe("Set", {
      namespace: "ops",
      key: "k",
      data: encodeString("x"),
      ttlMs: 0,
      ifVersion: version - 1,
    })),
    Status.ABORTED,
  );
  assert.equal(await ns.getString("k"), "v");
  // Flush hides the namespace on every replica and leaves the others.
  const other = client.namespace("ops-other");
  await other.setString("kept", "yes");
  await ns.flushNamespace();
  for (let i = 0; i < 4; i++) {
    assert.equal(await ns.getString("k"), undefined);
    assert.equal(await ns.getInt64("big"), undefined);
    assert.equal(await other.getString("kept"), "yes");
  }
  // Writes after the flush are seen, and a counter starts again at 0.
  await ns.setString("k", "after");
  assert.equal(await ns.getString("k"), "after");
  assert.equal(await ns.increment("big", 1n), 1n);
});
