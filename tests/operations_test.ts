/**
 * Operations: Prometheus metrics with exact counts across workers, HTTP
 * health, gRPC reflection, configuration from the environment, JSON logs.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { referenceShardOf } from "./reference_hash.ts";
import { cacheKey } from "../shared/wire/cache_key.ts";
import { holdSlow } from "./fixtures/slow_channel.ts";
import {
  clientCredentials,
  tlsChannelOptions,
} from "../shared/frontend/tls.ts";
import {
  makeCerts,
  noClientCert,
  rawCallStatus,
  startTestService,
  statusOf,
} from "./helpers.ts";
import { WorkerGate } from "./fixtures/worker_gate.ts";
import { sample } from "./prometheus.ts";
import { GanacheProcess, ROOT } from "./process_helpers.ts";

Deno.test("/metrics counts requests, hits, misses and items exactly, across 3 workers", async () => {
  await using t = await startTestService({ workers: 3, metricsPort: 0 });
  const client = await t.connect();
  const ns = client.namespace("m");
  const keys = ["a", "b", "c", "d", "e"];
  for (const key of keys) await ns.setString(key, key);
  for (const key of ["a", "b", "c", "d"]) await ns.getString(key);
  for (const key of ["x", "y", "z"]) await ns.getString(key);
  await ns.delete("e");
  await ns.multiGet(["a", "nope"]);

  const port = t.service.metricsPort!;
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  const scrape = await response.text();
  // start has no etcd: it exports no etcd metric.
  assert.doesNotMatch(scrape, /etcd/);
  const cfe = { service: "ganache.cfe.CFE" };
  assert.equal(
    sample(scrape, "ganache_requests_total", {
      ...cfe,
      method: "Set",
      code: "0",
    }),
    5,
  );
  assert.equal(
    sample(scrape, "ganache_requests_total", {
      ...cfe,
      method: "Get",
      code: "0",
    }),
    4,
  );
  assert.equal(
    sample(scrape, "ganache_requests_total", {
      ...cfe,
      method: "Get",
      code: "5",
    }),
    3,
  );
  assert.equal(
    sample(scrape, "ganache_requests_total", {
      ...cfe,
      method: "Delete",
      code: "0",
    }),
    1,
  );
  assert.equal(
    sample(scrape, "ganache_request_duration_seconds_count", {
      ...cfe,
      method: "Get",
    }),
    7,
  );

  // Per shard, exactly as the router placed the keys.
  const shardOf = (key: string) => String(referenceShardOf("m", key, 3));
  const expected = (keysRead: string[]) => {
    const counts: Record<string, number> = { "0": 0, "1": 0, "2": 0 };
    for (const key of keysRead) counts[shardOf(key)]!++;
    return counts;
  };
  const hits = expected(["a", "b", "c", "d", "a"]);
  const misses = expected(["x", "y", "z", "nope"]);
  const items = expected(["a", "b", "c", "d"]);
  for (const shard of ["0", "1", "2"]) {
    assert.equal(
      sample(scrape, "ganache_cache_hits_total", { shard }),
      hits[shard],
      `hits ${shard}`,
    );
    assert.equal(
      sample(scrape, "ganache_cache_misses_total", { shard }),
      misses[shard],
      `misses ${shard}`,
    );
    assert.equal(
      sample(scrape, "ganache_cache_items", { shard }),
      items[shard],
      `items ${shard}`,
    );
  }
  assert.equal(
    sample(scrape, "ganache_cache_capacity_bytes", { shard: "0" }),
    Math.floor(64 * 1024 * 1024 / 3),
  );
  // Memory, exactly: each entry is a 48-byte chunk (32-byte header + "1:mX"
  // + a 3-byte StringValue = 39: the arena's smallest chunk); a shard holding any also holds
  // the StringValue type URL once (128 + 2 × 47 bytes); every index is 8
  // slots of 4 bytes. The arena keeps, as resident, every chunk handed out:
  // "e" too, though deleted.
  const written = expected(keys);
  for (const shard of ["0", "1", "2"]) {
    const held = items[shard]!;
    assert.equal(
      sample(scrape, "ganache_cache_bytes", { shard }),
      32 + 48 * held + (held > 0 ? 128 + 2 * 47 : 0),
      `bytes ${shard}`,
    );
    assert.equal(sample(scrape, "ganache_cache_index_bytes", { shard }), 32);
    assert.equal(
      sample(scrape, "ganache_cache_arena_bytes", { shard }),
      48 * written[shard]!,
      `arena ${shard}`,
    );
  }
  const resident = sample(scrape, "process_resident_memory_bytes", {});
  assert.ok(
    resident > 20 * 2 ** 20 && resident < 4 * 2 ** 30,
    `resident ${resident}`,
  );
});

Deno.test("a failed TLS handshake is counted", async () => {
  await using t = await startTestService({ metricsPort: 0 });
  const code = await rawCallStatus(
    t.address,
    noClientCert(t.clientTls.ca),
    "/ganache.cfe.CFE/Get",
    new Uint8Array(0),
  );
  assert.equal(code, grpc.status.UNAVAILABLE);
  const scrape =
    await (await fetch(`http://127.0.0.1:${t.service.metricsPort}/metrics`))
      .text();
  assert.equal(sample(scrape, "ganache_tls_handshake_failures_total"), 1);
});

Deno.test("/healthz and /readyz answer; /readyz is 503 once shutdown starts", async () => {
  const slow = new URL("./fixtures/slow_shard_worker.ts", import.meta.url);
  const t = await startTestService({ metricsPort: 0, workerUrl: slow });
  const base = `http://127.0.0.1:${t.service.metricsPort}`;
  assert.equal(
    (await fetch(`${base}/healthz`).then(async (
      r,
    ) => [r.status, await r.text()])).join(" "),
    "200 ok\n",
  );
  assert.equal(
    (await fetch(`${base}/readyz`).then(async (
      r,
    ) => [r.status, await r.text()])).join(" "),
    "200 ready\n",
  );
  const client = await t.connect();
  using held = holdSlow(cacheKey("n", "slow"));
  const inFlight = client.namespace("n").getString("slow");
  await held.held;
  const closing = t.close();
  const during = await fetch(`${base}/readyz`);
  assert.equal(during.status, 503);
  await during.body?.cancel();
  held.release();
  assert.equal(await inFlight, undefined);
  await closing;
});

/**
 * Polls `condition` until it holds. The 30 s bound is a hang guard, not a
 * speed check: it only turns a condition that never holds into a failure.
 */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error("the condition never held");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("/readyz is 503 and health NOT_SERVING on every frontend thread while a worker shard restarts", async () => {
  using gate = new WorkerGate();
  await using t = await startTestService({
    workers: 2,
    frontendThreads: 2,
    metricsPort: 0,
    workerUrl: new URL("./fixtures/gated_shard_worker.ts", import.meta.url),
  });
  const readyz = async () => {
    const response = await fetch(
      `http://127.0.0.1:${t.service.metricsPort}/readyz`,
    );
    await response.body?.cancel();
    return response.status;
  };
  // Connections spread over both threads (the kernel picks one for each).
  const clients = await Promise.all(
    Array.from({ length: 8 }, () => t.connect(true)),
  );
  const client = clients[0]!;
  const health = () => Promise.all(clients.map((c) => c.health()));
  assert.equal(await readyz(), 200);
  const trigger = "x-crash-now";
  const crashed = referenceShardOf("n", trigger, 2);
  const restarting = gate.holdNext(`shard-${crashed}`);
  assert.equal(
    await statusOf(client.namespace("n").getString(trigger)),
    grpc.status.UNAVAILABLE,
  );
  // The replacement worker has loaded and waits for the gate: restarting.
  await restarting;
  assert.equal(await readyz(), 503);
  // The other thread hears of it by message: wait for it (stable while the
  // gate holds the worker).
  await until(async () =>
    (await health()).every((status) => status === "NOT_SERVING")
  );
  gate.open(`shard-${crashed}`);
  await t.service.shards[crashed]!.ready();
  assert.equal(await readyz(), 200);
  await until(async () =>
    (await health()).every((status) => status === "SERVING")
  );
});

Deno.test("server reflection lists ganache.cfe.CFE and describes it", async () => {
  await using t = await startTestService();
  const definition = protoLoader.loadSync(
    `${ROOT}node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto`,
    { keepCase: true },
  );
  const Reflection = grpc.makeGenericClientConstructor(
    definition["grpc.reflection.v1.ServerReflection"] as grpc.ServiceDefinition,
    "ServerReflection",
  );
  const client = new Reflection(
    t.address,
    clientCredentials(t.clientTls),
    tlsChannelOptions(t.address),
  );
  const ask = (request: object) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const stream = (client as unknown as {
        ServerReflectionInfo(): grpc.ClientDuplexStream<
          object,
          Record<string, unknown>
        >;
      }).ServerReflectionInfo();
      stream.on("data", (response) => {
        resolve(response);
        stream.end();
      });
      stream.on("error", reject);
      stream.write(request);
    });
  try {
    const listed = await ask({ list_services: "" }) as {
      list_services_response: { service: { name: string }[] };
    };
    assert.deepEqual(
      listed.list_services_response.service.map((s) => s.name).sort(),
      ["ganache.cfe.CFE", "grpc.health.v1.Health"],
    );
    const file = await ask({ file_containing_symbol: "ganache.cfe.CFE" }) as {
      file_descriptor_response?: { file_descriptor_proto: Uint8Array[] };
    };
    const bytes = file.file_descriptor_response?.file_descriptor_proto ?? [];
    assert.ok(bytes.length > 0);
    assert.ok(
      bytes.some((b) => new TextDecoder().decode(b).includes("MultiGet")),
    );
  } finally {
    client.close();
  }
});

Deno.test("GANACHE_PORT sets the port and a --port flag beats it; logs are JSON lines without secrets", async () => {
  const certs = await makeCerts();
  // No port is picked ahead of time (another process could take it): the
  // environment asks for port 0 (the default is 40001), and the flag asks
  // for 0 over an environment port 1 that the test cannot bind.
  const env = {
    GANACHE_PORT: "0",
    GANACHE_LOG_FORMAT: "json",
    GANACHE_WORKERS: "1",
  };
  const byEnv = new GanacheProcess("start", ["--certs", certs], certs, env);
  const byFlag = new GanacheProcess(
    "start",
    ["--certs", certs, "--port", "0"],
    certs,
    { ...env, GANACHE_PORT: "1" },
  );
  try {
    const serving = /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/;
    for (const process of [byEnv, byFlag]) {
      const port = Number((await process.waitFor(serving))[1]);
      assert.ok(port !== 40001 && port !== 1, `port ${port}`);
    }
    for (const process of [byEnv, byFlag]) {
      process.kill("SIGTERM");
      assert.equal(await process.exited, 0);
    }
    const key = await Deno.readTextFile(`${certs}/cfe.key`);
    const keyBody = key.split("\n")[1]!;
    for (const line of [...byEnv.lines, ...byFlag.lines]) {
      const entry = JSON.parse(line);
      assert.deepEqual(Object.keys(entry), ["time", "level", "module", "msg"]);
      assert.doesNotMatch(line, /PRIVATE KEY/);
      assert.ok(!line.includes(keyBody), "a log line holds key material");
    }
    assert.ok(
      byEnv.lines.some((l) =>
        JSON.parse(l).msg.startsWith("using certificates from")
      ),
    );
  } finally {
    await byEnv.stop();
    await byFlag.stop();
    await Deno.remove(certs, { recursive: true });
  }
});
