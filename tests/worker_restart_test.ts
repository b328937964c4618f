/** A shard worker that crashes is restarted; only its own data is lost. */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { referenceShardOf } from "./reference_hash.ts";
import { startTestService, statusOf } from "./helpers.ts";

const CRASHING_WORKER = new URL(
  "./fixtures/crashing_shard_worker.ts",
  import.meta.url,
);

/** The first key of the form `<prefix><i>` that the router sends to `shard` of `count`. */
function keyOnShard(prefix: string, shard: number, count: number): string {
  for (let i = 0;; i++) {
    if (referenceShardOf("n", `${prefix}${i}`, count) === shard) {
      return `${prefix}${i}`;
    }
  }
}

Deno.test("a crashed worker is restarted empty, counted in Stats, and other shards keep their data", async () => {
  await using t = await startTestService({
    workers: 2,
    workerUrl: CRASHING_WORKER,
  });
  const client = await t.connect();
  const ns = client.namespace("n");
  const trigger = `${keyOnShard("x", 0, 2)}crash-now`;
  const crashShard = referenceShardOf("n", trigger, 2);
  const lostKey = keyOnShard("lost", crashShard, 2);
  const keptKey = keyOnShard("kept", 1 - crashShard, 2);
  await ns.setString(lostKey, "lost");
  await ns.setString(keptKey, "kept");

  assert.equal(await statusOf(ns.getString(trigger)), grpc.status.UNAVAILABLE);
  await t.service.shards[crashShard]!.ready();

  assert.equal(await ns.getString(keptKey), "kept");
  assert.equal(await ns.getString(lostKey), undefined);
  await ns.setString(lostKey, "again");
  assert.equal(await ns.getString(lostKey), "again");
  const { shards } = await client.stats();
  assert.deepEqual(
    shards.map((s) => s.restarts),
    crashShard === 0 ? [1, 0] : [0, 1],
  );
  assert.equal(await client.health(), "SERVING");
});
