/**
 * Readiness of the cluster roles as operators see it: `/readyz` of a
 * frontend follows its replicas, and `ganache_etcd_up` is exported by the
 * roles that talk to etcd.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Cluster } from "./cluster.ts";
import { statusOf } from "./helpers.ts";
import { sampleOf, scrape } from "./prometheus.ts";

Deno.test("cfe: /readyz is 503 once a shard's only replica is marked down, and ganache_etcd_up is 1", async () => {
  await using cluster = await Cluster.start();
  const shard = await cluster.shard(["--shards", "1", "--metrics-port", "0"]);
  const shardMetrics =
    (await shard.process.waitFor(/metrics on (http:\S+\/metrics)/))[1]!;
  await cluster.waitForRegistrations((r) => r.some((x) => x.state === "ready"));
  const cfe = await cluster.cfe(["--metrics-port", "0"]);
  const readyz = async () => {
    const response = await fetch(cfe.metricsUrl!.replace(/metrics$/, "readyz"));
    await response.body?.cancel();
    return response.status;
  };
  for (const url of [cfe.metricsUrl!, shardMetrics]) {
    assert.equal(sampleOf(await scrape(url), "ganache_etcd_up"), 1, url);
  }
  const ns = cfe.client.namespace("n");
  await ns.setString("k", "v");
  assert.equal(await readyz(), 200);
  // Its registration stays in etcd until the lease runs out: only the
  // failed call tells the frontend the replica is down.
  shard.process.kill("SIGKILL");
  await shard.process.exited;
  assert.equal(await statusOf(ns.getString("k")), grpc.status.UNAVAILABLE);
  assert.equal(await readyz(), 503);
});
