/**
 * The entry module of a shard worker: a Web Worker that owns one
 * {@linkcode ShardStore} and applies batches of operations to it.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { GanacheError, Status } from "../wire/errors.ts";
import { logger, setLogFormat, setLogLevel } from "../ops/log.ts";
import { PURGE_INTERVAL_MS, ShardStore } from "../store/store.ts";
import { CacheOps } from "./cache_ops.ts";
import { PackedWrites } from "./write_packing.ts";
import type {
  BatchMessage,
  FromWorker,
  OpResult,
  ToWorker,
  WorkerOp,
} from "./worker_protocol.ts";

const log = logger("shard_worker");
let ops: CacheOps | undefined;

function apply(
  ops: CacheOps,
  op: WorkerOp,
  writes: PackedWrites | undefined,
): OpResult {
  const store = ops.store;
  try {
    switch (op.op) {
      case "get":
        return store.get(op.key) ?? null;
      case "getMany":
        return op.keys.map((key) => store.get(key) ?? null);
      case "set":
        ops.set(packed(writes).one(op.at));
        return null;
      case "setMany":
        ops.setMany(packed(writes).run(op.at, op.count));
        return null;
      case "setIf":
        return ops.setIf(packed(writes).one(op.at), op.condition);
      case "increment":
        return ops.increment(op.key, op.delta, op.ttlMs);
      case "touch":
        return store.touch(op.key, op.ttlMs);
      case "deleteMany":
        return ops.deleteMany(op.keys);
      case "flush":
        ops.flushNamespace(op.namespace);
        return null;
      case "delete":
        return store.delete(op.key);
      case "ttl":
        return store.ttl(op.key) ?? -1;
      case "stats":
        store.purgeExpired();
        return store.stats();
    }
  } catch (error) {
    if (error instanceof GanacheError) {
      return { failed: true, code: error.code, message: error.message };
    }
    // A bug, or a request the store did not expect: fail this request
    // only; throwing would crash the worker and lose the shard's data.
    log.error(
      `internal error in ${op.op}: ${
        error instanceof Error ? error.stack : error
      }`,
    );
    return { failed: true, code: Status.INTERNAL, message: "internal error" };
  }
}

function packed(writes: PackedWrites | undefined): PackedWrites {
  if (writes === undefined) throw new Error("a write without packed writes");
  return writes;
}

function post(message: FromWorker): void {
  self.postMessage(message);
}

// Set before any await: messages that arrive earlier would be lost.
self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.kind === "init") {
    setLogLevel(message.logLevel);
    setLogFormat(message.logFormat);
    const shardStore = new ShardStore({ maxBytes: message.maxBytes });
    ops = new CacheOps(shardStore);
    setInterval(() => shardStore.purgeExpired(), PURGE_INTERVAL_MS);
    log.debug(`ready with ${message.maxBytes} bytes`);
    post({ kind: "ready" });
    return;
  }
  if (message.kind === "port") {
    // Another frontend thread: it sends batches on its own port.
    const port = message.port;
    port.onmessage = (event: MessageEvent<BatchMessage>) =>
      port.postMessage(answer(event.data));
    return;
  }
  post(answer(message));
};

function answer(batch: BatchMessage): FromWorker {
  if (ops === undefined) throw new Error("batch before init");
  const current = ops;
  const writes = batch.writes && new PackedWrites(batch.writes);
  const results = batch.ops.map((op) => apply(current, op, writes));
  writes?.release();
  return { kind: "results", id: batch.id, results };
}
