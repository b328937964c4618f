/** `start --frontend-threads`: several threads serve one port and share the worker shards. */
import assert from "node:assert/strict";
import { referenceShardOf } from "./reference_hash.ts";
import * as grpc from "@grpc/grpc-js";
import { PortShard } from "../shared/shards/port_shard.ts";
import { WorkerShard } from "../shared/shards/worker_shard.ts";
import { startTestService, statusOf } from "./helpers.ts";
import { sample } from "./prometheus.ts";

Deno.test("with 2 frontend threads, 16 connections read back what they wrote, and /metrics counts every request", async () => {
  await using t = await startTestService({
    workers: 2,
    frontendThreads: 2,
    metricsPort: 0,
  });
  const clients = await Promise.all(
    Array.from({ length: 16 }, () => t.connect(true)),
  );
  await Promise.all(clients.map(async (client, c) => {
    const ns = client.namespace(`c${c}`);
    for (let i = 0; i < 10; i++) await ns.setString(`k${i}`, `${c}/${i}`);
    for (let i = 0; i < 10; i++) {
      assert.equal(await ns.getString(`k${i}`), `${c}/${i}`);
    }
  }));
  const { shards } = await clients[0]!.stats();
  assert.equal(shards.reduce((sum, s) => sum + s.items, 0), 160);
  assert.equal(shards.reduce((sum, s) => sum + s.hits, 0), 160);
  const scrape =
    await (await fetch(`http://127.0.0.1:${t.service.metricsPort}/metrics`))
      .text();
  assert.equal(
    sample(scrape, "ganache_requests_total", { method: "Set", code: "0" }),
    160,
  );
  assert.equal(
    sample(scrape, "ganache_requests_total", { method: "Get", code: "0" }),
    160,
  );
  assert.equal(
    sample(scrape, "ganache_cache_items", { shard: "0" }) +
      sample(scrape, "ganache_cache_items", { shard: "1" }),
    160,
  );
});

Deno.test("a crashed worker is reached again from every frontend thread", async () => {
  const crashing = new URL(
    "./fixtures/crashing_shard_worker.ts",
    import.meta.url,
  );
  await using t = await startTestService({
    workers: 2,
    frontendThreads: 2,
    workerUrl: crashing,
  });
  const clients = await Promise.all(
    Array.from({ length: 8 }, () => t.connect(true)),
  );
  const trigger = "x-crash-now";
  const crashed = referenceShardOf("n", trigger, 2);
  assert.equal(
    await statusOf(clients[0]!.namespace("n").getString(trigger)),
    grpc.status.UNAVAILABLE,
  );
  await t.service.shards[crashed]!.ready();
  // Every connection, whichever thread serves it, reaches the new worker.
  const key = Array.from({ length: 100 }, (_, i) => `k${i}`)
    .find((k) => referenceShardOf("n", k, 2) === crashed)!;
  for (const client of clients) {
    const ns = client.namespace("n");
    // ready() resolved once every thread had the new worker's port: no
    // retry.
    await ns.setString(key, "again");
    assert.equal(await ns.getString(key), "again");
  }
  assert.equal(t.service.shards[crashed]!.restarts, 1);
});

Deno.test("a batch on another thread's port reaches the worker, and a crash there restarts it", async () => {
  const crashing = new URL(
    "./fixtures/crashing_shard_worker.ts",
    import.meta.url,
  );
  const { promise: relinked, resolve } = Promise.withResolvers<void>();
  let ready = 0;
  const shard = new WorkerShard({
    index: 0,
    maxBytes: 1024 * 1024,
    workerUrl: crashing,
    onReady: () => {
      if (++ready === 2) resolve();
    },
  });
  const channel = new MessageChannel();
  await shard.ready();
  shard.connect(channel.port1);
  const remote = new PortShard(0, channel.port2, 0);
  try {
    await remote.set({
      key: "1:nk",
      value: { typeUrl: "t", value: new Uint8Array([7]) },
      ttlMs: 0,
    });
    assert.deepEqual(Array.from((await shard.get("1:nk"))!.value), [7]);
    const crash = remote.get("1:nx-crash-now");
    await relinked;
    assert.equal(shard.restarts, 1);
    const again = new MessageChannel();
    shard.connect(again.port1);
    remote.replace(again.port2, shard.restarts);
    assert.equal(await statusOf(crash), grpc.status.UNAVAILABLE);
    assert.equal(await remote.get("1:nk"), undefined);
    assert.equal(remote.restarts, 1);
  } finally {
    await remote.close();
    await shard.close();
  }
});
