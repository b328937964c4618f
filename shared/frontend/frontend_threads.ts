/**
 * {@linkcode FrontendThreads}: the extra frontend threads of `start`
 * (`--frontend-threads N`), seen from the main thread. Each serves the
 * same port (`reusePort`, Linux) and reaches every shard worker over its own
 * message channel, re-wired whenever a worker is replaced.
 *
 * Requests to a thread carry ids and every wait has a deadline: a thread
 * that fails to start fails `start` with its cause, and a thread that dies
 * is logged and replaced, while `/metrics` and shutdown go on without it.
 *
 * @module
 */
import type { FrontendOptions } from "./frontend.ts";
import type {
  FromFrontendThread,
  ThreadRequest,
  ToFrontendThread,
} from "./frontend_thread_protocol.ts";
import { getLogFormat, getLogLevel, logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { WorkerShard } from "../shards/worker_shard.ts";

const log = logger("frontend_threads");

/** The module every extra frontend thread runs. */
const FRONTEND_THREAD_URL = new URL("./frontend_thread.ts", import.meta.url);

/** How long a thread may take to start serving, in ms. */
const START_TIMEOUT_MS = 30_000;
/** How long a thread may take to report its metrics, in ms. */
const METRICS_TIMEOUT_MS = 5_000;
/** The longest wait before a dead thread is replaced, in ms. */
const MAX_RESTART_DELAY_MS = 5_000;

/** Options for {@linkcode FrontendThreads.start}. */
export interface FrontendThreadsOptions {
  /** How many threads besides the main one. */
  count: number;
  /** The frontend's options; its port is the one the main thread shares. */
  frontend: FrontendOptions;
  /** The shard workers every thread reaches. */
  shards: readonly WorkerShard[];
  /** The main thread's metrics; the threads' request metrics join them. */
  metrics: Metrics;
  /** The module the threads run (tests pass one that fails). */
  threadUrl?: URL;
}

/** A request without its id (the id is given when it is sent). */
type Unsent = ThreadRequest extends infer R
  ? R extends ThreadRequest ? Omit<R, "id"> : never
  : never;

/** One running extra frontend thread. */
class Thread {
  readonly worker: Worker;
  readonly number: number;
  readonly #pending = new Map<number, {
    resolve(reply: FromFrontendThread): void;
    reject(error: Error): void;
  }>();
  #nextId = 1;
  /** Why the thread is gone, once it is. */
  dead: Error | undefined;

  constructor(number: number, url: URL, onDeath: (thread: Thread) => void) {
    this.number = number;
    this.worker = new Worker(url, {
      type: "module",
      name: `frontend-${number}`,
    });
    this.worker.onmessage = (event: MessageEvent<FromFrontendThread>) => {
      const reply = event.data;
      const waiter = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.kind === "failed") waiter?.reject(new Error(reply.message));
      else waiter?.resolve(reply);
    };
    this.worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#die(new Error(event.message));
      onDeath(this);
    };
    this.worker.onmessageerror = () => {
      this.#die(new Error("a message from it could not be read"));
      onDeath(this);
    };
  }

  /**
   * Sends a request and resolves with the reply of the same id.
   *
   * @throws {Error} when the thread fails the request, dies, or does not
   * answer within `timeoutMs`.
   */
  ask(
    request: Unsent,
    timeoutMs: number,
    transfer: Transferable[] = [],
  ): Promise<FromFrontendThread> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<
      FromFrontendThread
    >();
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      reject(
        new Error(
          `frontend thread ${this.number} did not answer ${request.kind} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    this.#pending.set(id, { resolve, reject });
    const message = { ...request, id } as ToFrontendThread;
    this.worker.postMessage(message, transfer);
    return promise.finally(() => clearTimeout(timer));
  }

  /** Sends a message that has no reply. */
  tell(message: ToFrontendThread, transfer: Transferable[] = []): void {
    if (!this.dead) this.worker.postMessage(message, transfer);
  }

  /** Stops the thread; whatever waits on it fails. */
  terminate(why: string): void {
    this.#die(new Error(why));
  }

  #die(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    this.worker.terminate();
    for (const waiter of this.#pending.values()) waiter.reject(error);
    this.#pending.clear();
  }
}

/** The extra frontend threads, and their links to the shard workers. */
export class FrontendThreads {
  /** The thread serving each slot now (a replaced thread's slot keeps its number). */
  readonly #threads: (Thread | undefined)[] = [];
  readonly #options: FrontendThreadsOptions;
  readonly #url: URL;
  /** Set once every thread started; until then a death fails `start`. */
  #serving = false;
  #closing = false;
  readonly #restarts: number[] = [];
  /** Dead threads already logged and replaced. */
  readonly #mourned = new WeakSet<Thread>();

  private constructor(options: FrontendThreadsOptions) {
    this.#options = options;
    this.#url = options.threadUrl ?? FRONTEND_THREAD_URL;
  }

  /**
   * Starts the threads, serving `frontend.port` (already listened on with
   * a shared port by the main thread), and resolves once they all serve.
   * Their request metrics are added to `metrics`.
   *
   * @throws {Error} naming the thread and the cause when one fails to
   * start or does not start in time; the others are stopped.
   */
  static async start(
    options: FrontendThreadsOptions,
  ): Promise<FrontendThreads> {
    const threads = new FrontendThreads(options);
    const started = await Promise.allSettled(
      Array.from({ length: options.count }, (_, slot) => threads.#spawn(slot)),
    );
    const failure = started.find((result) => result.status === "rejected");
    if (failure) {
      threads.#closing = true;
      for (const thread of threads.#threads) thread?.terminate("stopped");
      throw (failure as PromiseRejectedResult).reason;
    }
    for (let slot = 0; slot < options.count; slot++) {
      options.metrics.addSource(() => threads.#metricsOf(slot));
    }
    threads.#serving = true;
    log.info(
      `${
        options.count + 1
      } frontend threads serve port ${options.frontend.port}`,
    );
    return threads;
  }

  /** Gives every thread a link to the replacement of shard `index`. */
  relink(index: number): Promise<void> {
    const shard = this.#options.shards[index]!;
    return Promise.all(this.#threads.map(async (thread) => {
      if (!thread || thread.dead) return;
      const link = this.#link(shard);
      try {
        await thread.ask({ kind: "link", index, link }, 5_000, [link.port]);
      } catch (error) {
        log.warn(
          `frontend thread ${thread.number}: ${(error as Error).message}`,
        );
      }
    })).then(() => {});
  }

  /** Tells every thread that shard `index`'s worker died. */
  down(index: number): void {
    for (const thread of this.#threads) {
      if (!thread || thread.dead) continue;
      thread.tell({ kind: "down", index });
    }
  }

  /** Tells every thread's health service whether the shards can serve. */
  setHealth(status: "SERVING" | "NOT_SERVING"): void {
    for (const thread of this.#threads) {
      if (!thread || thread.dead) continue;
      thread.tell({ kind: "health", status });
    }
  }

  /** Drains every thread's calls in flight, then stops the threads. */
  async close(): Promise<void> {
    this.#closing = true;
    const timeoutMs = this.#options.frontend.shutdownGraceMs + 5_000;
    await Promise.all(this.#threads.map(async (thread) => {
      if (!thread) return;
      try {
        await thread.ask({ kind: "close" }, timeoutMs);
      } catch (error) {
        log.warn(
          `frontend thread ${thread.number}: ${(error as Error).message}`,
        );
      }
      thread.terminate("stopped");
    }));
  }

  /** Starts the thread of `slot` and resolves once it serves. */
  async #spawn(slot: number): Promise<void> {
    const number = slot + 1;
    const thread = new Thread(
      number,
      this.#url,
      (dead) => this.#onDeath(slot, dead),
    );
    this.#threads[slot] = thread;
    const shards = this.#options.shards.map((shard) => this.#link(shard));
    try {
      await thread.ask(
        {
          kind: "init",
          options: this.#options.frontend,
          shards,
          logLevel: getLogLevel(),
          logFormat: getLogFormat(),
        },
        START_TIMEOUT_MS,
        shards.map((link) => link.port),
      );
    } catch (error) {
      thread.terminate("failed to start");
      throw new Error(
        `frontend thread ${number} failed to start: ${
          (error as Error).message
        }`,
      );
    }
  }

  /** Logs a dead thread and starts another in its slot, after a delay that grows. */
  #onDeath(slot: number, thread: Thread): void {
    if (!this.#serving || this.#closing || this.#mourned.has(thread)) return;
    if (this.#threads[slot] !== thread) return;
    this.#mourned.add(thread);
    const restarts = this.#restarts[slot] = (this.#restarts[slot] ?? 0) + 1;
    const delayMs = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** (restarts - 1));
    log.error(
      `frontend thread ${thread.number} died (${thread.dead?.message}); starting another in ${delayMs} ms (restart ${restarts})`,
    );
    setTimeout(() => {
      if (this.#closing || this.#threads[slot] !== thread) return;
      this.#spawn(slot).then(
        () => log.info(`frontend thread ${slot + 1} serves again`),
        (error: Error) => {
          log.error(error.message);
          const replacement = this.#threads[slot];
          if (replacement) this.#onDeath(slot, replacement);
        },
      );
    }, delayMs);
  }

  /** The request metrics of the thread in `slot`; none if it cannot say. */
  async #metricsOf(slot: number) {
    const thread = this.#threads[slot];
    if (!thread || thread.dead) return [];
    try {
      const reply = await thread.ask({ kind: "metrics" }, METRICS_TIMEOUT_MS);
      return reply.kind === "metrics" ? reply.metrics : [];
    } catch (error) {
      log.warn(`frontend thread ${thread.number}: ${(error as Error).message}`);
      return [];
    }
  }

  /** A new channel to `shard`'s current worker; returns the thread's end. */
  #link(shard: WorkerShard) {
    const channel = new MessageChannel();
    shard.connect(channel.port1);
    return { port: channel.port2, restarts: shard.restarts };
  }
}
