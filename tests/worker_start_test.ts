/** A shard whose worker keeps dying before it is ready fails start, with the cause. */
import assert from "node:assert/strict";
import { startService } from "../roles/start.ts";
import { WorkerShard } from "../shared/shards/worker_shard.ts";
import { makeCerts } from "./helpers.ts";

const UNLOADABLE = new URL(
  "./fixtures/unloadable_shard_worker.ts",
  import.meta.url,
);

Deno.test("a worker that dies before it is ready, again and again, rejects ready() and calls onFailed with the cause", async () => {
  const failed = Promise.withResolvers<Error>();
  const shard = new WorkerShard({
    index: 3,
    maxBytes: 1024 * 1024,
    workerUrl: UNLOADABLE,
    maxFailedStarts: 2,
    onFailed: failed.resolve,
  });
  try {
    await assert.rejects(
      shard.ready(),
      /shard 3 could not start: .*2 times in a row.*this shard worker cannot load/,
    );
    assert.match((await failed.promise).message, /shard 3 could not start/);
  } finally {
    await shard.close();
  }
});

Deno.test("startService rejects, and closes what it opened, when a shard cannot start", async () => {
  const certs = await makeCerts();
  try {
    await assert.rejects(
      startService({
        host: "127.0.0.1",
        port: 0,
        workers: 2,
        maxBytes: 4 * 1024 * 1024,
        maxValueBytes: 1024 * 1024,
        certs,
        clientAuth: true,
        shutdownGraceMs: 100,
        workerUrl: UNLOADABLE,
      }),
      /could not start: .*this shard worker cannot load/,
    );
  } finally {
    await Deno.remove(certs, { recursive: true });
  }
});
