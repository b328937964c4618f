/**
 * The deciding replica's request ids, and namespace flushes in a cluster:
 * a retried operation is answered, not applied again, by the decider and
 * by a replica its result reached; a flush hides writes acknowledged
 * before it and no write acknowledged after it, whatever the frontends'
 * clocks; a replica that missed a flush takes it when it heals. Real etcd,
 * real shard and frontend processes (see `cluster.ts`).
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type {
  ApplyResponse,
  Operation,
} from "../shared/cluster/apply_messages.ts";
import {
  clientCredentials,
  readTlsFiles,
  tlsChannelOptions,
} from "../shared/frontend/tls.ts";
import { unaryCall } from "../shared/wire/call.ts";
import { cacheKey } from "../shared/wire/cache_key.ts";
import { Status } from "../shared/wire/errors.ts";
import { SHARD_SERVICE } from "../shared/wire/services.ts";
import { Cluster, type ShardProcess } from "./cluster.ts";
import { statusOf } from "./helpers.ts";

/** Two ready replicas of one shard, the first by address first. */
async function twoReplicas(
  cluster: Cluster,
): Promise<[ShardProcess, ShardProcess]> {
  const first = await cluster.shard(["--shards", "1"]);
  const second = await cluster.shard();
  await cluster.waitForRegistrations((r) =>
    r.filter((x) => x.state === "ready").length === 2
  );
  return [first, second].sort((a, b) => a.address < b.address ? -1 : 1) as [
    ShardProcess,
    ShardProcess,
  ];
}

Deno.test("cluster: a request id is applied once, by the decider and, after it dies, by the replica its result reached; that replica does not decide while the first lives", async () => {
  await using cluster = await Cluster.start();
  const [a, b] = await twoReplicas(cluster);
  const Client = grpc.makeGenericClientConstructor(SHARD_SERVICE, "Shard");
  const credentials = clientCredentials(
    await readTlsFiles(cluster.certs, "cfe"),
  );
  const connect = (address: string) =>
    new Client(address, credentials, tlsChannelOptions(address));
  const [toA, toB] = [connect(a.address), connect(b.address)];
  try {
    const key = cacheKey("ids", "n");
    const apply = async (
      client: grpc.Client,
      requestId: string,
      replicas: string[],
    ) => {
      const operation: Operation = {
        requestId,
        key,
        increment: { delta: "5", ttlMs: 0 },
      };
      const { results, unreached } = await unaryCall<ApplyResponse>(
        client,
        "Apply",
        { operations: [operation], replicas, forwardTimeoutMs: 1000 },
      );
      assert.deepEqual(unreached, []);
      assert.equal(results[0]!.code, 0, results[0]!.message);
      return results[0]!.value;
    };
    assert.equal(await apply(toA, "first", [b.address]), "5");
    // A retry on the decider: the first answer, not a second increment.
    assert.equal(await apply(toA, "first", [b.address]), "5");
    assert.equal(await apply(toA, "second", [b.address]), "10");
    // The other replica does not decide while the first one does and
    // answers it (a frontend that cannot reach the first gets ABORTED)...
    assert.equal(
      await statusOf(apply(toB, "third", [a.address])),
      Status.ABORTED,
    );
    // ...and once it is gone, answers a retry with the first result (its
    // forward reached this replica), and builds new ones on the same value.
    a.process.kill("SIGKILL");
    await a.process.exited;
    // (It checks again that the first one answers within half a second.)
    const deadline = Date.now() + 5000;
    let first: string | undefined;
    while (first === undefined) {
      try {
        first = await apply(toB, "first", []);
      } catch (error) {
        assert.equal((error as { code?: number }).code, Status.ABORTED);
        assert.ok(Date.now() < deadline, "the other replica never decided");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    assert.equal(first, "5");
    assert.equal(await apply(toB, "second", []), "10");
    assert.equal(await apply(toB, "third", []), "15");
    assert.equal(await apply(toB, "third", []), "15");
    const cfe = await cluster.cfe();
    for (let i = 0; i < 4; i++) {
      assert.equal(await cfe.client.namespace("ids").getInt64("n"), 15n);
    }
  } finally {
    toA.close();
    toB.close();
  }
});

for (
  const [writer, flusher] of [["+1h", ""], ["", "-1h"], ["", "+1h"]]
) {
  Deno.test(`cluster: a flush by a frontend ${flusher || "on time"} hides the writes of one ${writer || "on time"} acknowledged before it, and none after`, async () => {
    await using cluster = await Cluster.start();
    await twoReplicas(cluster);
    const w = await cluster.cfe([], { clockOffset: writer || undefined });
    const f = await cluster.cfe([], { clockOffset: flusher || undefined });
    const written = w.client.namespace("skewed");
    for (let round = 0; round < 5; round++) {
      await written.setString("before", "x");
      await written.increment("count", 1);
      await f.client.namespace("skewed").flushNamespace();
      assert.equal(await written.getString("before"), undefined);
      assert.equal(await written.getInt64("count"), undefined);
      await written.setString("after", `round ${round}`);
      assert.equal(await written.increment("count", 2), 2n);
      for (const reader of [w, f]) {
        const ns = reader.client.namespace("skewed");
        assert.equal(await ns.getString("after"), `round ${round}`);
        assert.equal(await ns.getInt64("count"), 2n);
      }
    }
  });
}

Deno.test("cluster: a replica that missed a flush (stopped) hides the flushed keys once it heals", async () => {
  await using cluster = await Cluster.start();
  const [a, b] = await twoReplicas(cluster);
  const cfe = await cluster.cfe(["--shard-timeout-ms", "500"]);
  const flushed = cfe.client.namespace("flushed");
  const kept = cfe.client.namespace("kept");
  const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
  await flushed.multiSetString(keys.map((k): [string, string] => [k, k]));
  await kept.setString("k", "still here");
  b.process.kill("SIGSTOP");
  try {
    await flushed.flushNamespace();
  } finally {
    b.process.kill("SIGCONT");
  }
  await cfe.process.waitFor(/healed; back in rotation/, 20_000);
  a.process.kill("SIGKILL");
  await a.process.exited;
  // Only b serves now: it holds none of the flushed keys.
  assert.deepEqual(await flushed.multiGet(keys), keys.map(() => undefined));
  assert.equal(await kept.getString("k"), "still here");
});

Deno.test("cluster: a replica that joins after a flush holds none of the flushed keys, and takes a later write of a frontend 1 h behind", async () => {
  await using cluster = await Cluster.start();
  const [a, b] = await twoReplicas(cluster);
  const onTime = await cluster.cfe();
  const behind = await cluster.cfe([], { clockOffset: "-1h" });
  const flushed = onTime.client.namespace("joined");
  const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
  await flushed.multiSetString(keys.map((k): [string, string] => [k, k]));
  await onTime.client.namespace("kept").setString("k", "still here");
  await flushed.flushNamespace();
  await cluster.shard();
  await cluster.waitForRegistrations((r) =>
    r.filter((x) => x.state === "ready").length === 3
  );
  for (const old of [a, b]) {
    old.process.kill("SIGKILL");
    await old.process.exited;
  }
  // Only the replica that joined serves now.
  const ns = behind.client.namespace("joined");
  assert.deepEqual(await ns.multiGet(keys), keys.map(() => undefined));
  assert.equal(
    await behind.client.namespace("kept").getString("k"),
    "still here",
  );
  await ns.setString("k1", "after the flush");
  assert.equal(await ns.getString("k1"), "after the flush");
  assert.equal(await flushed.getString("k1"), "after the flush");
});
