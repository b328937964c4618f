/**
 * The cluster keeps every acknowledged write and tells the truth: frontends
 * on shifted clocks, bad writes, counters, forged registrations. Real etcd,
 * real shard and frontend processes (see `cluster.ts`).
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { cacheKey, hashKey } from "../shared/wire/cache_key.ts";
import type { ReplicaStats } from "../shared/cluster/shard_messages.ts";
import type { ShardStats } from "../shared/wire/messages.ts";
import {
  clientCredentials,
  readTlsFiles,
  tlsChannelOptions,
} from "../shared/frontend/tls.ts";
import { SHARD_SERVICE } from "../shared/wire/services.ts";
import { unaryCall } from "../shared/wire/call.ts";
import { Cluster } from "./cluster.ts";
import { statusOf } from "./helpers.ts";

const keys = (n: number, prefix = "key") =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

type WithReplicas = ShardStats & { replicas: ReplicaStats[] };

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} never happened${last ? `: ${last}` : ""}`);
}

for (const offset of ["-1s", "-10s", "+1h"]) {
  Deno.test(`frontends ${offset} apart: a Set acknowledged after another wins, 0 of 100 lost`, async () => {
    await using cluster = await Cluster.start();
    await cluster.shard(["--shards", "1"]);
    await cluster.shard();
    await cluster.waitForRegistrations((r) =>
      r.filter((x) => x.state === "ready").length === 2
    );
    const right = await cluster.cfe();
    const skewed = await cluster.cfe([], { clockOffset: offset });
    const a = right.client.namespace("skew");
    const b = skewed.client.namespace("skew");
    let lost = 0;
    for (const key of keys(100)) {
      // Alternate which frontend writes first, and end on the other one.
      await a.setString(key, "first");
      await b.setString(key, "second");
      await a.setString(key, "third");
      for (const reader of [a, b]) {
        if (await reader.getString(key) !== "third") lost++;
      }
      await b.delete(key);
      await a.setString(key, "after delete");
      await b.setString(key, "last");
      for (const reader of [a, b]) {
        if (await reader.getString(key) !== "last") lost++;
      }
    }
    assert.equal(lost, 0, `${lost} reads missed the last acknowledged write`);
  });
}

Deno.test("a delete acknowledged after a Set on a clock 1 h ahead stays deleted", async () => {
  await using cluster = await Cluster.start();
  await cluster.shard(["--shards", "1"]);
  const ahead = await cluster.cfe([], { clockOffset: "+1h" });
  const right = await cluster.cfe();
  const a = ahead.client.namespace("ahead");
  const b = right.client.namespace("ahead");
  for (const key of keys(20)) {
    await a.setString(key, "from the future");
    assert.equal(await b.delete(key), true);
    assert.equal(await a.getString(key), undefined);
    assert.equal(await b.getString(key), undefined);
  }
});

Deno.test("a write one replica refuses (too large for it) leaves every replica in rotation, and they agree", async () => {
  await using cluster = await Cluster.start();
  await cluster.shard(["--shards", "1", "--max-bytes", "64MiB"]);
  await cluster.shard(["--max-bytes", "256KiB"]);
  await cluster.waitForRegistrations((r) =>
    r.filter((x) => x.state === "ready").length === 2
  );
  const cfe = await cluster.cfe();
  const ns = cfe.client.namespace("refused");
  await ns.setString("big", "small value first");
  const huge = "x".repeat(512 * 1024);
  assert.equal(
    await statusOf(ns.setString("big", huge)),
    grpc.status.RESOURCE_EXHAUSTED,
  );
  // An over-long key is refused by the frontend itself.
  assert.equal(
    await statusOf(ns.setString("k".repeat(5000), "v")),
    grpc.status.INVALID_ARGUMENT,
  );
  // Both replicas serve (in rotation), and agree that the key is gone.
  for (let i = 0; i < 6; i++) {
    assert.equal(await ns.getString("big"), undefined);
  }
  await ns.setString("after", "still written");
  const { shards } = await cfe.client.stats();
  const replicas = (shards[0] as WithReplicas).replicas;
  assert.deepEqual(replicas.map((r) => r.state), ["ready", "ready"]);
  assert.equal(await ns.getString("after"), "still written");
  assert.ok(
    !cfe.process.lines.some((l) => /out of rotation/.test(l)),
    cfe.process.log,
  );
});

Deno.test("counters scraped repeatedly never decrease, through a replica leaving", async () => {
  await using cluster = await Cluster.start();
  const a = await cluster.shard(["--shards", "1"]);
  await cluster.shard();
  await cluster.waitForRegistrations((r) =>
    r.filter((x) => x.state === "ready").length === 2
  );
  const cfe = await cluster.cfe(["--metrics-port", "0"]);
  const ns = cfe.client.namespace("counters");
  await ns.setString("k", "v");
  const scrape = async () => {
    const text = await (await fetch(cfe.metricsUrl!)).text();
    const hits = /^ganache_cache_hits_total\{shard="0"\} (\d+)/m.exec(text);
    const misses = /^ganache_cache_misses_total\{shard="0"\} (\d+)/m.exec(
      text,
    );
    const { shards } = await cfe.client.stats();
    return [
      Number(hits?.[1]),
      Number(misses?.[1]),
      shards[0]!.hits,
      shards[0]!.misses,
    ];
  };
  const seen: number[][] = [];
  for (let round = 0; round < 10; round++) {
    if (round === 6) {
      a.process.kill("SIGKILL");
      await a.process.exited;
    }
    await ns.getString(round % 2 ? "k" : "absent");
    seen.push(await scrape());
  }
  for (let i = 1; i < seen.length; i++) {
    seen[i]!.forEach((value, j) =>
      assert.ok(
        value >= seen[i - 1]![j]!,
        `scrape ${i} went down: ${JSON.stringify(seen)}`,
      )
    );
  }
  assert.ok(seen.at(-1)![0]! >= 5, JSON.stringify(seen));
  const { shards } = await cfe.client.stats();
  const replicas = (shards[0] as WithReplicas).replicas;
  assert.equal(replicas.length >= 1, true);
  assert.ok(replicas.every((r) => typeof r.address === "string"));
});

Deno.test("a forged registration (shard 1's address listed under shard 0) causes no false miss", async () => {
  await using cluster = await Cluster.start();
  const s0 = await cluster.shard(["--shards", "2", "--shard", "0"]);
  const s1 = await cluster.shard(["--shard", "1"]);
  const cfe = await cluster.cfe();
  const ns = cfe.client.namespace("forged");
  for (const key of keys(100)) await ns.setString(key, key);
  await cluster.put(
    `ganache/shards/0/${s1.address}`,
    JSON.stringify({
      address: s1.address,
      state: "ready",
      startedAt: new Date().toISOString(),
      version: "forged",
    }),
  );
  // Garbage beside it is ignored and logged.
  await cluster.put("ganache/shards/0/not-json", "{");
  await cluster.put("ganache/shards/7/127.0.0.1:1", "{}");
  await cfe.process.waitFor(
    new RegExp(`shard 0: replica ${s1.address.replaceAll(".", "\\.")} joined`),
  );
  let misses = 0;
  for (let round = 0; round < 4; round++) {
    const values = await ns.multiGet(keys(100));
    misses += values.filter((v) => v === undefined).length;
    for (const key of keys(25)) {
      if (await ns.getString(key) !== key) misses++;
    }
  }
  assert.equal(misses, 0);
  // Writes still reach the real replica of each shard.
  const on0 = keys(100).find((k) => hashKey(cacheKey("forged", k)) % 2 === 0)!;
  await ns.setString(on0, "new");
  assert.equal(await ns.getString(on0), "new");
  // The forged replica's counters are not shard 0's.
  const { shards } = await cfe.client.stats();
  const replicas = (shards[0] as WithReplicas).replicas;
  assert.deepEqual(replicas.map((r) => r.address), [s0.address]);
  assert.equal(shards[0]!.hits, replicas[0]!.hits);
  await cfe.process.waitFor(
    /ignoring registration ganache\/shards\/0\/not-json/,
  );
  await cfe.process.waitFor(/ignoring registration ganache\/shards\/7\//);
});

Deno.test("writes made while a replica joins all reach it, and deletes racing the join stay deleted", async () => {
  await using cluster = await Cluster.start();
  const first = await cluster.shard(["--shards", "1"]);
  const cfe = await cluster.cfe();
  const ns = cfe.client.namespace("join");
  const before = keys(2000, "before");
  for (let i = 0; i < before.length; i += 500) {
    await ns.multiSet(
      before.slice(i, i + 500).map((key) => ({
        key,
        value: { typeUrl: "t", value: new TextEncoder().encode(key) },
      })),
    );
  }
  const late = await cluster.shard();
  let joined = false;
  const ready = cluster.waitForRegistrations(
    (r) => r.some((x) => x.address === late.address && x.state === "ready"),
    60_000,
  ).then(() => joined = true);
  const during: string[] = [];
  const deleted: string[] = [];
  for (let i = 0; !joined && i < 8000; i++) {
    const key = `during-${i}`;
    await ns.setString(key, key);
    during.push(key);
    if (i < 1000) {
      await ns.delete(before[i]!);
      deleted.push(before[i]!);
    }
    // Yields to the event loop so the deletes race the join; no time waited.
    if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await ready;
  await eventually(
    "the frontend sees the late replica ready",
    () =>
      Promise.resolve(
        cfe.process.lines.some((l) =>
            l.includes(`replica ${late.address} is ready`) ||
            l.includes(`replica ${late.address} joined (ready)`)
          )
          ? true
          : undefined,
      ),
  );
  first.process.kill("SIGKILL");
  await first.process.exited;
  const values = await ns.multiGet(during);
  const missing = during.filter((_, i) => values[i] === undefined);
  assert.deepEqual(missing, [], `${missing.length} of ${during.length} lost`);
  const gone = await ns.multiGet(deleted);
  const back = deleted.filter((_, i) => gone[i] !== undefined);
  assert.deepEqual(back, [], `${back.length} deleted keys came back`);
  const kept = before.slice(deleted.length);
  const still = await ns.multiGet(kept);
  assert.equal(still.filter((v) => v === undefined).length, 0);
  assert.ok(deleted.length > 0 && during.length > 0);
});

Deno.test("a replica that missed writes serves them again after healing, without a restart", async () => {
  await using cluster = await Cluster.start();
  const a = await cluster.shard(["--shards", "1", "--lease-ttl", "60"]);
  const b = await cluster.shard(["--lease-ttl", "60"]);
  await cluster.waitForRegistrations((r) =>
    r.filter((x) => x.state === "ready").length === 2
  );
  const cfe = await cluster.cfe(["--shard-timeout-ms", "300"]);
  const ns = cfe.client.namespace("heal");
  for (const key of keys(50, "old")) await ns.setString(key, key);
  // a stops answering: writes to it time out, it leaves the rotation.
  a.process.kill("SIGSTOP");
  for (const key of keys(50, "missed")) await ns.setString(key, key);
  await cfe.process.waitFor(/out of rotation/);
  a.process.kill("SIGCONT");
  // Measured for the README's healing bound, printed, never asserted.
  const resumed = performance.now();
  await cfe.process.waitFor(
    new RegExp(`replica ${a.address.replaceAll(".", "\\.")} healed`),
  );
  console.log(
    `healed ${
      (performance.now() - resumed).toFixed(0)
    } ms after the fault ended`,
  );
  b.process.kill("SIGKILL");
  await b.process.exited;
  const all = [...keys(50, "old"), ...keys(50, "missed")];
  const values = await eventually("reads from the healed replica", async () => {
    const got = await ns.multiGet(all);
    return got;
  });
  const missing = all.filter((_, i) => values[i] === undefined);
  assert.deepEqual(missing, []);
  assert.ok(a.process.lines.some((l) => /copied \d+ entries/.test(l)));
});

Deno.test("a shard answers each entry of a Write on its own, and refuses keys of another shard", async () => {
  await using cluster = await Cluster.start();
  const s0 = await cluster.shard(["--shards", "2", "--shard", "0"]);
  const Client = grpc.makeGenericClientConstructor(SHARD_SERVICE, "Shard");
  const client = new Client(
    s0.address,
    clientCredentials(await readTlsFiles(cluster.certs, "cfe")),
    tlsChannelOptions(s0.address),
  );
  const write = (entries: object[]) =>
    unaryCall<{ results: { code: number; version: number }[] }>(
      client,
      "Write",
      { entries },
    );
  try {
    const mine = keys(50).map((k) => cacheKey("own", k)).filter((k) =>
      hashKey(k) % 2 === 0
    );
    const theirs = keys(50).map((k) => cacheKey("own", k)).find((k) =>
      hashKey(k) % 2 === 1
    )!;
    const value = { typeUrl: "t", value: new Uint8Array([1]) };
    const { results } = await write([
      { key: mine[0], found: true, data: value, version: 10 },
      { key: mine[1], found: true, data: null, version: 11 }, // malformed
      { key: mine[2], found: true, data: value, version: 12 },
    ]);
    assert.deepEqual(results.map((r) => r.code), [
      grpc.status.OK,
      grpc.status.INVALID_ARGUMENT,
      grpc.status.OK,
    ]);
    assert.deepEqual([results[0]!.version, results[2]!.version], [10, 12]);
    // An older version loses and the reply says which one is held.
    const older = await write([
      { key: mine[0], found: true, data: value, version: 5 },
    ]);
    assert.equal(older.results[0]!.version, 10);
    assert.equal(
      await statusOf(
        write([{ key: theirs, found: true, data: value, version: 1 }]),
      ),
      grpc.status.FAILED_PRECONDITION,
    );
  } finally {
    (client as unknown as grpc.Client).close();
  }
});
