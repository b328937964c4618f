/**
 * A frontend's Gets to a replica on one open `GetStream` call
 * (`shared/cluster/get_stream.ts`): answered in order, a refused batch
 * fails alone and the next one opens a new stream, a stalled replica fails
 * the batch at its deadline, and only frontends and shards may open one.
 * A real shard process on a real etcd (see `cluster.ts`).
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { cacheKey, hashKey } from "../shared/wire/cache_key.ts";
import {
  clientCredentials,
  readTlsFiles,
  tlsChannelOptions,
} from "../shared/frontend/tls.ts";
import { ShardClient } from "../shared/cluster/shard_codec.ts";
import { GetStream } from "../shared/cluster/get_stream.ts";
import { unaryCall } from "../shared/wire/call.ts";
import { Cluster } from "./cluster.ts";

/** `n` cache keys of namespace `stream` that hash to `shard` of 2. */
const keysOf = (shard: number, n: number) =>
  Array.from({ length: 200 }, (_, i) => cacheKey("stream", `k-${i}`))
    .filter((k) => hashKey(k) % 2 === shard).slice(0, n);

/** A shard client presenting the `role` certificate. */
async function connect(cluster: Cluster, address: string, role: string) {
  return new ShardClient(
    address,
    clientCredentials(await readTlsFiles(cluster.certs, role)),
    tlsChannelOptions(address),
  );
}

/** What a rejected batch rejected with. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => assert.fail("the batch was answered"),
    (error) => error as grpc.ServiceError,
  );

Deno.test("Gets on one stream: batches answered in order, a refused batch fails alone, a stalled replica fails at the deadline", async () => {
  await using cluster = await Cluster.start();
  const shard = await cluster.shard(["--shards", "2", "--shard", "0"]);
  const client = await connect(cluster, shard.address, "cfe");
  const reads = new GetStream(client);
  try {
    const [a, b, c] = keysOf(0, 3);
    const value = { typeUrl: "t", value: new Uint8Array([7]) };
    await unaryCall(client, "Write", {
      entries: [a, b].map((key) => ({
        key,
        found: true,
        data: value,
        version: 1,
      })),
    });
    // Sent back to back on the same call: each answer is its own batch's.
    const [first, second] = await Promise.all([
      reads.get([a!, c!], 5000),
      reads.get([c!, b!, a!], 5000),
    ]);
    assert.deepEqual(first.entries.map((e) => e.found), [true, false]);
    assert.deepEqual(second.entries.map((e) => e.found), [false, true, true]);
    assert.deepEqual([...first.entries[0]!.data!.value], [7]);

    const refused = await failure(reads.get([keysOf(1, 1)[0]!], 5000));
    assert.equal(refused.code, grpc.status.FAILED_PRECONDITION);
    const again = await reads.get([b!], 5000);
    assert.deepEqual(again.entries.map((e) => e.found), [true]);

    Deno.kill(shard.process.pid, "SIGSTOP");
    try {
      const late = await failure(reads.get([a!], 300));
      assert.equal(late.code, grpc.status.DEADLINE_EXCEEDED);
    } finally {
      Deno.kill(shard.process.pid, "SIGCONT");
    }
    const after = await reads.get([a!], 5000);
    assert.deepEqual(after.entries.map((e) => e.found), [true]);
  } finally {
    reads.close();
    client.close();
  }
});

Deno.test("a client certificate cannot open a Get stream", async () => {
  await using cluster = await Cluster.start();
  const shard = await cluster.shard(["--shards", "1"]);
  const client = await connect(cluster, shard.address, "client");
  const reads = new GetStream(client);
  try {
    const error = await failure(reads.get([cacheKey("stream", "k")], 5000));
    assert.equal(error.code, grpc.status.PERMISSION_DENIED);
  } finally {
    reads.close();
    client.close();
  }
});
