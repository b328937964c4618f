/**
 * {@linkcode FrontendThreads}: the extra frontend threads of `start`
 * (`--frontend-threads N`), seen from the main thread. Each serves the
 * same port (`reusePort`, Linux) and reaches every shard worker over its own
 * message channel, re-wired whenever a worker is replaced.
 *
 * @module
 */
import type { FrontendOptions } from "./frontend.ts";
import type {
  FromFrontendThread,
  ShardLink,
  ToFrontendThread,
} from "./frontend_thread_protocol.ts";
import { getLogFormat, getLogLevel, logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { WorkerShard } from "../shards/worker_shard.ts";

const log = logger("frontend_threads");

/** The module every extra frontend thread runs. */
const FRONTEND_THREAD_URL = new URL("./frontend_thread.ts", import.meta.url);

/** A running extra frontend thread. */
interface Thread {
  worker: Worker;
  replies: ((message: FromFrontendThread) => void)[];
}

/** The extra frontend threads, and their links to the shard workers. */
export class FrontendThreads {
  readonly #threads: Thread[] = [];
  readonly #shards: readonly WorkerShard[];

  private constructor(shards: readonly WorkerShard[]) {
    this.#shards = shards;
  }

  /**
   * Starts `count` threads serving `options.port` (already listened on
   * with a shared port by the main thread) and resolves once they serve.
   * Their request metrics are added to `metrics`.
   */
  static async start(
    count: number,
    options: FrontendOptions,
    shards: readonly WorkerShard[],
    metrics: Metrics,
  ): Promise<FrontendThreads> {
    const threads = new FrontendThreads(shards);
    await Promise.all(
      Array.from({ length: count }, (_, i) => threads.#spawn(i + 1, options)),
    );
    for (const thread of threads.#threads) {
      metrics.addSource(async () => {
        const reply = await threads.#ask(thread, { kind: "metrics" });
        return reply.kind === "metrics" ? reply.metrics : [];
      });
    }
    log.info(`${count + 1} frontend threads serve port ${options.port}`);
    return threads;
  }

  /** Gives every thread a link to the replacement of shard `index`. */
  relink(index: number): void {
    const shard = this.#shards[index]!;
    for (const thread of this.#threads) {
      const link = this.#link(shard);
      const message: ToFrontendThread = { kind: "shard", index, link };
      thread.worker.postMessage(message, [link.port]);
    }
  }

  /** Drains every thread's calls in flight, then stops the threads. */
  async close(): Promise<void> {
    await Promise.all(this.#threads.map(async (thread) => {
      await this.#ask(thread, { kind: "close" });
      thread.worker.terminate();
    }));
  }

  async #spawn(number: number, options: FrontendOptions): Promise<void> {
    const worker = new Worker(FRONTEND_THREAD_URL, {
      type: "module",
      name: `frontend-${number}`,
    });
    const thread: Thread = { worker, replies: [] };
    worker.onmessage = (event: MessageEvent<FromFrontendThread>) =>
      thread.replies.shift()?.(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      log.error(`frontend thread ${number} failed: ${event.message}`);
    };
    const shards = this.#shards.map((shard) => this.#link(shard));
    const init: ToFrontendThread = {
      kind: "init",
      options,
      shards,
      logLevel: getLogLevel(),
      logFormat: getLogFormat(),
    };
    const ready = new Promise((resolve) => thread.replies.push(resolve));
    worker.postMessage(init, shards.map((link) => link.port));
    await ready;
    this.#threads.push(thread);
  }

  /** Sends a request and resolves with the thread's reply (in order). */
  #ask(
    thread: Thread,
    message: ToFrontendThread,
  ): Promise<FromFrontendThread> {
    return new Promise((resolve) => {
      thread.replies.push(resolve);
      thread.worker.postMessage(message);
    });
  }

  /** A new channel to `shard`'s current worker; returns the thread's end. */
  #link(shard: WorkerShard): ShardLink {
    const channel = new MessageChannel();
    shard.connect(channel.port1);
    return { port: channel.port2, restarts: shard.restarts };
  }
}
