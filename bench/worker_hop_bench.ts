/**
 * The cost of the worker hop: 64 Gets in flight to one shard worker, sent
 * one message per request (the naive way, the baseline) or batched per
 * event-loop turn as `WorkerShard` does.
 *
 * Run: deno bench --unstable-worker-options -A bench/worker_hop_bench.ts
 *
 * @module
 */
import { cacheKey } from "../shared/wire/cache_key.ts";
import { encodeBytes } from "../shared/wire/values.ts";
import type { FromWorker, ToWorker } from "../shared/shards/worker_protocol.ts";
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

  #post(message: ToWorker) {
    this.#worker.postMessage(message);
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
      this.#post({
        kind: "batch",
        id,
        ops: [{ op: "set", write: { key, value: VALUE, ttlMs: 0 } }],
      });
    });
  }
}

const naive = new NaiveShard();
const batched = new WorkerShard({ index: 0, maxBytes: 64 * 1024 * 1024 });
await Promise.all([naive.ready, batched.ready()]);
await Promise.all(KEYS.map((key) => naive.set(key)));
await Promise.all(
  KEYS.map((key) => batched.set({ key, value: VALUE, ttlMs: 0 })),
);

Deno.bench({
  name: "one message per request",
  group: "worker hop: 64 Gets in flight",
  baseline: true,
  async fn() {
    await Promise.all(KEYS.map((key) => naive.get(key)));
  },
});

Deno.bench({
  name: "batched per event-loop turn (WorkerShard)",
  group: "worker hop: 64 Gets in flight",
  async fn() {
    await Promise.all(KEYS.map((key) => batched.get(key)));
  },
});
