/** Graceful shutdown: health goes NOT_SERVING, calls in flight finish, new calls are refused. */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { GanacheClient } from "../shared/client.ts";
import { HEALTH_SERVICE } from "../shared/wire/services.ts";
import {
  clientCredentials,
  tlsChannelOptions,
} from "../shared/frontend/tls.ts";
import { startTestService, statusOf } from "./helpers.ts";
import { cacheKey } from "../shared/wire/cache_key.ts";
import { holdSlow } from "./fixtures/slow_channel.ts";
import { streamCall } from "../shared/wire/call.ts";

const SLOW_WORKER = new URL("./fixtures/slow_shard_worker.ts", import.meta.url);

Deno.test("a call in flight at shutdown completes; later calls are refused", async () => {
  const t = await startTestService({ workerUrl: SLOW_WORKER });
  const client = await t.connect();
  const ns = client.namespace("n");
  await ns.setString("slow", "finished");
  using held = holdSlow(cacheKey("n", "slow"));
  const inFlight = ns.getString("slow");
  await held.held;
  const closing = t.close();
  held.release();
  assert.equal(await inFlight, "finished");
  await closing;
  const again = await GanacheClient.connect({
    address: t.address,
    tls: t.clientTls,
    timeoutMs: 1000,
  });
  try {
    assert.equal(await statusOf(again.stats()), grpc.status.UNAVAILABLE);
  } finally {
    again.close();
  }
});

Deno.test("health Watch reports SERVING, then NOT_SERVING when shutdown starts", async () => {
  const t = await startTestService();
  const Health = grpc.makeGenericClientConstructor(HEALTH_SERVICE, "Health");
  const health = new Health(
    t.address,
    clientCredentials(t.clientTls),
    tlsChannelOptions(t.address),
  );
  const seen: string[] = [];
  let closing: Promise<void> | undefined;
  try {
    const stream = streamCall<{ status: string }>(health, "Watch", {
      service: "",
    });
    const ended = new Promise<void>((resolve) => {
      stream.on("data", (message) => {
        seen.push(message.status);
        if (message.status === "SERVING") closing = t.close();
      });
      stream.on("end", resolve);
      stream.on("error", () => resolve());
    });
    await ended;
    await closing;
    assert.deepEqual(seen, ["SERVING", "NOT_SERVING"]);
  } finally {
    health.close();
  }
});
