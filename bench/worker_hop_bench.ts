/**
 * The cost of the worker hop: 64 Gets in flight to one shard worker, sent
 * one message per request (the naive way, the baseline) or batched per
 * event-loop turn as `WorkerShard` does.
 *
 * Run: `deno bench -R bench/worker_hop_bench.ts`. Starting a worker needs
 * read access to its module, so plain `deno bench` (no permissions) lists
 * this group as ignored and says why.
 *
 * @module
 */
import { cacheKey } from "../shared/wire/cache_key.ts";
import { encodeBytes } from "../shared/wire/values.ts";
import type { FromWorker, ToWorker } from "../shared/shards/worker_protocol.ts";
import { packWrites } from "../shared/shards/write_packing.ts";
import {
  SHARD_WORKER_URL,
  WorkerShard,
} from "../shared/shards/worker_shard.ts";

const IN_FLIGHT = 64;
const KEYS = Array.from(
  { length: IN_FLIGHT },
  (_, i) => cacheKey("bench", `key-${i}`),
);
const VALUE = encodeBytes(new Uint8Array(100));

/** One message per request, straight to a shard worker. */
class NaiveShard {
  readonly #worker = new Worker(SHARD_WORKER_URL, { type: "module" });
  readonly #pending = new Map<number, (results: unknown[]) => void>();
  #next = 1;
  readonly ready: Promise<void>;

  constructor() {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.ready = promise;
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.kind === "ready") return resolve();
      this.#pending.get(message.id)?.(message.results);
      this.#pending.delete(message.id);
    };
    this.#post({
      kind: "init",
      maxBytes: 64 * 1024 * 1024,
      logLevel: "error",
      logFormat: "text",
    });
  }

  #post(message: ToWorker, transfer: Transferable[] = []) {
    this.#worker.postMessage(message, transfer);
  }

  get(key: string): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, (results) => resolve(results[0]));
      this.#post({ kind: "batch", id, ops: [{ op: "get", key }] });
    });
  }

  set(key: string): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      const { ops, writes } = packWrites([
        { op: "set", write: { key, value: VALUE, ttlMs: 0 } },
      ]);
      this.#post({ kind: "batch", id, ops, writes }, writes ? [writes] : []);
    });
  }
}

/** Starting a worker needs read access to its module. */
const CAN_START_WORKERS = Deno.permissions.querySync({
  name: "read",
  path: SHARD_WORKER_URL,
}).state === "granted";

let naive: NaiveShard | undefined;
let batched: WorkerShard | undefined;
if (CAN_START_WORKERS) {
  naive = new NaiveShard();
  batched = new WorkerShard({ index: 0, maxBytes: 64 * 1024 * 1024 });
  await Promise.all([naive.ready, batched.ready()]);
  await Promise.all(KEYS.map((key) => naive!.set(key)));
  await Promise.all(
    KEYS.map((key) => batched!.set({ key, value: VALUE, ttlMs: 0 })),
  );
} else {
  console.error(
    "worker hop benchmarks ignored: starting a worker needs read access to its module (run deno bench -R)",
  );
}

Deno.bench({
  name: "one message per request",
  group: "worker hop: 64 Gets in flight",
  baseline: true,
  ignore: !CAN_START_WORKERS,
  async fn() {
    await Promise.all(KEYS.map((key) => naive!.get(key)));
  },
});

Deno.bench({
  name: "batched per event-loop turn (WorkerShard)",
  group: "worker hop: 64 Gets in flight",
  ignore: !CAN_START_WORKERS,
  async fn() {
    await Promise.all(KEYS.map((key) => batched!.get(key)));
  },
});
