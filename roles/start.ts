/**
 * The `start` role: the embedded cache service. A TLS gRPC frontend in the
 * main thread, with Web Workers as its shards.
 *
 * @module
 */
import {
  type FlagValues,
  maxBytesFlag,
  parseInteger,
  type RoleSpec,
} from "../shared/flags.ts";
import {
  type FrontendOptions,
  prepareCerts,
  startFrontend,
} from "../shared/frontend/frontend.ts";
import {
  FRONTEND_FLAGS,
  frontendOptions,
} from "../shared/frontend/frontend_flags.ts";
import { FrontendThreads } from "../shared/frontend/frontend_threads.ts";
import type { HealthService } from "../shared/frontend/health.ts";
import { logger } from "../shared/ops/log.ts";
import { Metrics, shardStatsOf } from "../shared/ops/metrics.ts";
import { serveUntilSignal } from "../shared/ops/signals.ts";
import { GC_STEP_FLAG, parseGcStep } from "../shared/ops/gc_pacer.ts";
import { Router } from "../shared/shards/router.ts";
import { WorkerShard } from "../shared/shards/worker_shard.ts";

const log = logger("start");

/** What `start` takes on the command line. */
export const SPEC: RoleSpec = {
  usage: "start [flags]",
  summary: "Serve the cache: a TLS gRPC frontend with Web Worker shards.",
  positionals: [],
  flags: {
    ...FRONTEND_FLAGS,
    workers: {
      type: "string",
      default: "cores",
      value: "N",
      help: "number of worker shards (default: the number of cores)",
    },
    "max-bytes": maxBytesFlag("total cache capacity, split across shards"),
    "gc-step": GC_STEP_FLAG,
    "frontend-threads": {
      type: "string",
      default: "1",
      value: "N",
      help:
        "threads serving gRPC on the one port (reusePort, Linux); each routes to every worker shard",
    },
  },
};

/** Options of the `start` role. */
export interface StartOptions extends FrontendOptions {
  /** How many worker shards. @default the number of cores */
  workers: number;
  /** Total cache capacity in bytes, split evenly across shards. @default 256 MiB */
  maxBytes: number;
  /** Threads serving the frontend on one port (`reusePort`, Linux). @default 1 */
  frontendThreads?: number;
  /** The shard worker module (tests pass one that can crash). */
  workerUrl?: URL;
  /** The frontend thread module (tests pass one that fails). */
  frontendThreadUrl?: URL;
}

/**
 * The options of `start` from its parsed {@linkcode SPEC} flags.
 *
 * @param values The parsed flags.
 * @param cores The default number of workers.
 * @throws {UsageError} when a value is out of range.
 */
export function parseOptions(values: FlagValues, cores: number): StartOptions {
  const workers = values.text("workers");
  const maxBytes = values.size("max-bytes");
  return {
    ...frontendOptions(values),
    workers: workers === "cores"
      ? cores
      : parseInteger("workers", workers!, 1, 1024),
    maxBytes,
    gcStepBytes: parseGcStep(values, maxBytes),
    frontendThreads: values.integer("frontend-threads", 1, 64),
  };
}

/** A running embedded service. */
export interface StartedService {
  /** The port the frontend listens on. */
  port: number;
  /** The worker shards, by index. */
  shards: WorkerShard[];
  /** The health service, SERVING once every shard is up. */
  health: HealthService;
  /** The port of the metrics endpoint, if one was asked for. */
  metricsPort?: number;
  /** Graceful stop: NOT_SERVING, drain calls, stop workers. */
  close(): Promise<void>;
  /** Rejects, with the cause, if a shard's worker keeps dying before it is ready. */
  failed: Promise<never>;
}

/** Starts the embedded service and resolves once it serves. */
export async function startService(
  options: StartOptions,
): Promise<StartedService> {
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new RangeError(
      `Cannot start: --workers must be at least 1: received ${options.workers}`,
    );
  }
  const perShard = Math.floor(options.maxBytes / options.workers);
  if (!(perShard >= 1)) {
    throw new RangeError(
      `Cannot start: --max-bytes ${options.maxBytes} is less than one byte per shard`,
    );
  }
  const frontendThreads = options.frontendThreads ?? 1;
  if (!Number.isInteger(frontendThreads) || frontendThreads < 1) {
    throw new RangeError(
      `Cannot start: --frontend-threads must be at least 1: received ${frontendThreads}`,
    );
  }
  await prepareCerts(options.certs);
  let threads: FrontendThreads | undefined;
  const failed = Promise.withResolvers<never>();
  failed.promise.catch(() => {});
  // Health (and /readyz) follow the workers: NOT_SERVING while one
  // restarts, SERVING again once all are ready, until shutdown starts.
  const served: { health?: HealthService; closing?: boolean } = {};
  const followWorkers = () => {
    const health = served.health;
    if (!health || served.closing) return;
    const status = shards.every((shard) => shard.isReady)
      ? "SERVING"
      : "NOT_SERVING";
    health.setAll(status);
    threads?.setHealth(status);
  };
  const shards: WorkerShard[] = Array.from(
    { length: options.workers },
    (_, index) =>
      new WorkerShard({
        index,
        maxBytes: perShard,
        workerUrl: options.workerUrl,
        // A replaced worker must be reachable from the other threads too.
        onReady: async () => {
          await threads?.relink(index);
          followWorkers();
        },
        onDown: () => {
          threads?.down(index);
          followWorkers();
        },
        onFailed: failed.reject,
      }),
  );
  const metrics = new Metrics(shardStatsOf(shards));
  let frontend;
  try {
    frontend = await startFrontend(options, new Router(shards), metrics, {
      sharedPort: frontendThreads > 1,
    });
    await Promise.all(shards.map((shard) => shard.ready()));
    if (frontendThreads > 1) {
      threads = await FrontendThreads.start({
        count: frontendThreads - 1,
        frontend: { ...frontendOptionsOf(options), port: frontend.server.port },
        shards,
        metrics,
        threadUrl: options.frontendThreadUrl,
      });
    }
  } catch (error) {
    await threads?.close();
    await frontend?.close();
    await Promise.all(shards.map((shard) => shard.close()));
    throw error;
  }
  served.health = frontend.health;
  followWorkers();
  log.info(`${options.workers} worker shards of ${perShard} bytes are up`);
  return {
    port: frontend.server.port,
    shards,
    health: frontend.health,
    metricsPort: frontend.metricsPort,
    failed: failed.promise,
    close: async () => {
      served.closing = true;
      await Promise.all([frontend.close(), threads?.close()]);
      await Promise.all(shards.map((shard) => shard.close()));
    },
  };
}

/** The frontend options alone (what another thread can be sent). */
function frontendOptionsOf(options: StartOptions): FrontendOptions {
  return {
    host: options.host,
    port: options.port,
    maxValueBytes: options.maxValueBytes,
    certs: options.certs,
    clientCa: options.clientCa,
    clientAuth: options.clientAuth,
    acl: options.acl,
    shutdownGraceMs: options.shutdownGraceMs,
    limits: options.limits,
    gcStepBytes: options.gcStepBytes,
  };
}

/**
 * Runs the `start` role until SIGINT or SIGTERM, then stops gracefully.
 * Rejects (exit code 2) if a shard's worker cannot start.
 */
export function run(options: StartOptions): Promise<void> {
  return serveUntilSignal(
    () => startService(options),
    log,
    "draining calls in flight",
  );
}
