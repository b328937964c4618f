/**
 * {@linkcode WorkerShard}: a {@linkcode Shard} held by a local Web Worker
 * that this thread owns: it starts the worker, and restarts it when it
 * crashes. Operations are batched per event-loop turn (see
 * `batched_shard.ts`), which is what keeps the worker hop cheap under load.
 *
 * @module
 */
import { BatchedShard, Exchange } from "./batched_shard.ts";
import { UnavailableError } from "../wire/errors.ts";
import { getLogFormat, getLogLevel, logger } from "../ops/log.ts";
import type {
  FromWorker,
  OpResult,
  ShardOp,
  ToWorker,
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
  /**
   * Called with each new worker once it is ready (after a restart too);
   * {@linkcode WorkerShard.ready} resolves once what it returns settles
   * (`start`: every frontend thread has the new worker's port).
   */
  onReady?: (shard: WorkerShard) => void | Promise<void>;
  /**
   * How many times in a row the worker may die without becoming ready in
   * between (a module that cannot load, a crash in its setup) before the
   * shard gives up.
   * @default 5
   */
  maxFailedStarts?: number;
  /**
   * Called when a ready worker dies (it is restarting, or the shard gives
   * up): the shard cannot serve until `onReady` is called again.
   */
  onDown?: (shard: WorkerShard) => void;
  /** Called once if the shard gives up; {@linkcode WorkerShard.ready} rejects too. */
  onFailed?: (error: Error) => void;
}

/**
 * A shard in a Web Worker with no permissions. A worker that crashes is
 * replaced by a fresh, empty one (after a growing delay if it crashes
 * before it is ready); the calls it had in flight fail with UNAVAILABLE.
 */
export class WorkerShard extends BatchedShard {
  readonly #options: WorkerShardOptions;
  readonly #exchange = new Exchange();
  #worker: Worker | undefined;
  #ready = Promise.withResolvers<void>();
  #isReady = false;
  #restarts = 0;
  #failedStarts = 0;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** Starts the worker; await {@linkcode WorkerShard.ready} before use. */
  constructor(options: WorkerShardOptions) {
    super();
    this.#options = options;
    this.#spawn();
  }

  /**
   * Resolves once the worker (or its replacement) has its store; rejects,
   * with the last crash's cause, once the shard gives up (see
   * {@linkcode WorkerShardOptions.maxFailedStarts}).
   */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Whether a worker is ready to serve (false while it restarts). */
  get isReady(): boolean {
    return this.#isReady;
  }

  /** How many times the worker was replaced after a crash. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Lets another thread reach the current worker: batches posted on the
   * other end of `port` are answered on it.
   */
  connect(port: MessagePort): void {
    const message: ToWorker = { kind: "port", port };
    this.#worker?.postMessage(message, [port]);
  }

  /** Terminates the worker; calls still in flight fail with UNAVAILABLE. */
  close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#exchange.failAll(
      new UnavailableError(`shard ${this.#options.index} is closed`),
    );
    return Promise.resolve();
  }

  /** Posts one batch to the worker. */
  protected send(ops: ShardOp[]): Promise<OpResult[]> {
    const worker = this.#worker;
    if (worker === undefined) {
      return Promise.reject(
        new UnavailableError(
          `shard ${this.#options.index} is ${
            this.#closed ? "closed" : "restarting"
          }`,
        ),
      );
    }
    return this.#exchange.send(
      (message, transfer) => worker.postMessage(message, transfer),
      ops,
    );
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
        const ready = this.#ready;
        Promise.resolve()
          .then(() => this.#options.onReady?.(this))
          .finally(() => ready.resolve());
        return;
      }
      this.#exchange.receive(message.id, message.results);
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
    // Not ready before the calls in flight fail: whoever they reach sees
    // the shard down already.
    this.#notReady();
    this.#exchange.failAll(
      new UnavailableError(
        `shard ${this.#options.index} crashed and is restarting`,
      ),
    );
    // A worker that dies before it is ready would die again at once.
    const delay = this.#failedStarts === 0
      ? 0
      : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** this.#failedStarts);
    this.#failedStarts++;
    if (this.#failedStarts >= (this.#options.maxFailedStarts ?? 5)) {
      this.#giveUp(reason);
      return;
    }
    log.error(
      `shard ${this.#options.index} crashed (${reason}); restarting it empty in ${delay} ms (restart ${this.#restarts})`,
    );
    this.#restartTimer = setTimeout(() => this.#spawn(), delay);
  }

  #notReady(): void {
    if (!this.#isReady) return;
    this.#isReady = false;
    this.#ready = Promise.withResolvers<void>();
    this.#options.onDown?.(this);
  }

  #giveUp(reason: string): void {
    const error = new Error(
      `shard ${this.#options.index} could not start: its worker failed ${this.#failedStarts} times in a row before it was ready; last cause: ${reason}`,
    );
    log.error(error.message);
    this.#closed = true;
    this.#notReady();
    // Nobody may be waiting: keep the rejection from being unhandled.
    this.#ready.promise.catch(() => {});
    this.#ready.reject(error);
    this.#options.onFailed?.(error);
  }
}
