/**
 * {@linkcode WorkerShard}: a {@linkcode Shard} held by a local Web Worker.
 *
 * Operations are not posted one by one: everything enqueued during one turn
 * of the event loop goes to the worker in one message (a
 * {@linkcode Batcher}), and the worker answers the batch with one message,
 * which is what keeps the worker hop cheap under load.
 *
 * @module
 */
import { Batcher } from "./batcher.ts";
import { GanacheError, UnavailableError } from "./errors.ts";
import { getLogFormat, getLogLevel, logger } from "./log.ts";
import type { Shard, ShardCounters, ShardWrite } from "./shard.ts";
import type { AnyValue } from "./wire.ts";
import {
  type FromWorker,
  isFailure,
  type OpResult,
  type ShardOp,
  type ShardOpResults,
  type ToWorker,
} from "./worker_protocol.ts";

const log = logger("worker_shard");

/** The module every shard worker runs. */
export const SHARD_WORKER_URL = new URL("./shard_worker.ts", import.meta.url);

/** The longest wait before restarting a worker that keeps crashing, in ms. */
const MAX_RESTART_DELAY_MS = 5000;

/** Options for {@linkcode WorkerShard}. */
export interface WorkerShardOptions {
  /** The shard's index, for logs. */
  index: number;
  /** The shard's byte budget. */
  maxBytes: number;
  /**
   * The worker module; tests pass one that can be made to crash.
   * @default SHARD_WORKER_URL
   */
  workerUrl?: URL;
}

/**
 * A shard in a Web Worker with no permissions. A worker that crashes is
 * replaced by a fresh, empty one (after a growing delay if it crashes
 * before it is ready); the calls it had in flight fail with UNAVAILABLE.
 */
export class WorkerShard implements Shard {
  /** Always `worker`. */
  readonly location = "worker";
  readonly #options: WorkerShardOptions;
  readonly #batcher = new Batcher<ShardOp, OpResult>((ops) => this.#send(ops));
  #worker: Worker | undefined;
  #ready = Promise.withResolvers<void>();
  #isReady = false;
  #restarts = 0;
  #failedStarts = 0;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #nextBatch = 1;
  #inFlight = new Map<number, PromiseWithResolvers<OpResult[]>>();

  /** Starts the worker; await {@linkcode WorkerShard.ready} before use. */
  constructor(options: WorkerShardOptions) {
    this.#options = options;
    this.#spawn();
  }

  /** Resolves once the worker (or its replacement) has its store. */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** How many times the worker was replaced after a crash. */
  get restarts(): number {
    return this.#restarts;
  }

  /** See {@linkcode Shard.get}. */
  async get(key: string): Promise<AnyValue | undefined> {
    return (await this.#call({ op: "get", key })) ?? undefined;
  }

  /** See {@linkcode Shard.getMany}. */
  async getMany(keys: string[]): Promise<(AnyValue | undefined)[]> {
    const values = await this.#call({ op: "getMany", keys });
    return values.map((value) => value ?? undefined);
  }

  /** See {@linkcode Shard.set}. */
  async set(write: ShardWrite): Promise<void> {
    await this.#call({ op: "set", write: ownWrite(write) });
  }

  /** See {@linkcode Shard.setMany}. */
  async setMany(writes: ShardWrite[]): Promise<void> {
    await this.#call({ op: "setMany", writes: writes.map(ownWrite) });
  }

  /** See {@linkcode Shard.delete}. */
  delete(key: string): Promise<boolean> {
    return this.#call({ op: "delete", key });
  }

  /** See {@linkcode Shard.ttl}. */
  async ttl(key: string): Promise<number | undefined> {
    const left = await this.#call({ op: "ttl", key });
    return left < 0 ? undefined : left;
  }

  /** See {@linkcode Shard.stats}. */
  stats(): Promise<ShardCounters> {
    return this.#call({ op: "stats" });
  }

  /** Terminates the worker; calls still in flight fail with UNAVAILABLE. */
  close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#failAll(`shard ${this.#options.index} is closed`);
    return Promise.resolve();
  }

  async #call<K extends ShardOp["op"]>(
    op: Extract<ShardOp, { op: K }>,
  ): Promise<ShardOpResults[K]> {
    const result = await this.#batcher.add(op);
    if (isFailure(result)) throw new GanacheError(result.code, result.message);
    return result as ShardOpResults[K];
  }

  /** Posts one batch and resolves with the worker's results. */
  #send(ops: ShardOp[]): Promise<OpResult[]> {
    if (this.#worker === undefined) {
      return Promise.reject(
        new UnavailableError(
          `shard ${this.#options.index} is ${
            this.#closed ? "closed" : "restarting"
          }`,
        ),
      );
    }
    const id = this.#nextBatch++;
    const reply = Promise.withResolvers<OpResult[]>();
    this.#inFlight.set(id, reply);
    const message: ToWorker = { kind: "batch", id, ops };
    this.#worker.postMessage(message);
    return reply.promise;
  }

  #spawn(): void {
    this.#restartTimer = undefined;
    const worker = new Worker(this.#options.workerUrl ?? SHARD_WORKER_URL, {
      type: "module",
      name: `shard-${this.#options.index}`,
      // A shard needs no network, files or environment.
      deno: { permissions: "none" },
    });
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.kind === "ready") {
        this.#failedStarts = 0;
        this.#isReady = true;
        this.#ready.resolve();
        return;
      }
      this.#inFlight.get(message.id)?.resolve(message.results);
      this.#inFlight.delete(message.id);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#crashed(worker, event.message);
    };
    worker.onmessageerror = () => this.#crashed(worker, "unreadable message");
    const init: ToWorker = {
      kind: "init",
      maxBytes: this.#options.maxBytes,
      logLevel: getLogLevel(),
      logFormat: getLogFormat(),
    };
    worker.postMessage(init);
    this.#worker = worker;
  }

  #crashed(worker: Worker, reason: string): void {
    if (worker !== this.#worker) return;
    worker.terminate();
    this.#worker = undefined;
    this.#restarts++;
    this.#failAll(`shard ${this.#options.index} crashed and is restarting`);
    // A worker that dies before it is ready would die again at once.
    const delay = this.#failedStarts === 0
      ? 0
      : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** this.#failedStarts);
    this.#failedStarts++;
    log.error(
      `shard ${this.#options.index} crashed (${reason}); restarting it empty in ${delay} ms (restart ${this.#restarts})`,
    );
    if (this.#isReady) {
      this.#isReady = false;
      this.#ready = Promise.withResolvers<void>();
    }
    this.#restartTimer = setTimeout(() => this.#spawn(), delay);
  }

  #failAll(message: string): void {
    const error = new UnavailableError(message);
    for (const reply of this.#inFlight.values()) reply.reject(error);
    this.#inFlight.clear();
  }
}

/**
 * A copy of a write whose value owns exactly its bytes: a decoded value is
 * often a view into a larger message buffer, and posting a view copies the
 * whole buffer. (`Buffer#slice` makes a view, hence `new Uint8Array`.)
 */
function ownWrite(write: ShardWrite): ShardWrite {
  return {
    key: write.key,
    value: {
      typeUrl: write.value.typeUrl,
      value: new Uint8Array(write.value.value),
    },
    ttlMs: write.ttlMs,
    version: write.version,
  };
}
