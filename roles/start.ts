/**
 * The `start` role: the embedded cache service. A TLS gRPC frontend in the
 * main thread, with Web Workers as its shards.
 *
 * @module
 */
import { Acl } from "../shared/acl.ts";
import { cfeImplementation } from "../shared/cfe_service.ts";
import { ensureDevCerts, hasCa } from "../shared/certs.ts";
import { startGrpcServer } from "../shared/grpc_server.ts";
import { HealthService } from "../shared/health.ts";
import { logger } from "../shared/log.ts";
import { Router } from "../shared/router.ts";
import { onShutdownSignal } from "../shared/signals.ts";
import { readTlsFiles, serverCredentials } from "../shared/tls.ts";
import { CFE_SERVER_SERVICE, HEALTH_SERVICE } from "../shared/wire.ts";
import { WorkerShard } from "../shared/worker_shard.ts";

const log = logger("start");

/** The service name health checks report for the cache. */
export const CFE_SERVICE_NAME = "ganache.cfe.CFE";

/** Options of the `start` role. */
export interface StartOptions {
  /** The interface to listen on. @default "127.0.0.1" */
  host: string;
  /** The port; 0 picks a free one. @default 40001 */
  port: number;
  /** How many worker shards. @default the number of cores */
  workers: number;
  /** Total cache capacity in bytes, split evenly across shards. @default 256 MiB */
  maxBytes: number;
  /** The largest value accepted, in bytes. @default 4 MiB */
  maxValueBytes: number;
  /** Where `ca.crt`, `cfe.crt` and `cfe.key` are (made if there is no CA). @default "certs" */
  certs: string;
  /** The CA client certificates must chain to. @default `<certs>/ca.crt` */
  clientCa?: string;
  /** Whether clients must present a certificate. @default true */
  clientAuth: boolean;
  /** An ACL file: client common name to namespaces. */
  acl?: string;
  /** How long shutdown waits for calls in flight, in ms. @default 5000 */
  shutdownGraceMs: number;
  /** The shard worker module (tests pass one that can crash). */
  workerUrl?: URL;
}

/** A running embedded service. */
export interface StartedService {
  /** The port the frontend listens on. */
  port: number;
  /** The worker shards, by index. */
  shards: WorkerShard[];
  /** The health service, SERVING once every shard is up. */
  health: HealthService;
  /** Graceful stop: NOT_SERVING, drain calls, stop workers. */
  close(): Promise<void>;
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
  if (await hasCa(options.certs)) {
    log.info(`using certificates from ${options.certs}`);
  } else {
    await ensureDevCerts(options.certs);
    log.info(`generated development certificates in ${options.certs}`);
  }
  const tls = await readTlsFiles(options.certs, "cfe", options.clientCa);
  const acl = options.acl ? await Acl.load(options.acl) : undefined;

  const shards = Array.from(
    { length: options.workers },
    (_, index) =>
      new WorkerShard({
        index,
        maxBytes: perShard,
        workerUrl: options.workerUrl,
      }),
  );
  const health = new HealthService([CFE_SERVICE_NAME]);
  let grpcServer;
  try {
    grpcServer = await startGrpcServer({
      host: options.host,
      port: options.port,
      credentials: serverCredentials(tls, options.clientAuth),
      maxMessageBytes: Math.max(64 * 1024 * 1024, 2 * options.maxValueBytes),
      services: [
        [
          CFE_SERVER_SERVICE,
          cfeImplementation({
            router: new Router(shards),
            maxValueBytes: options.maxValueBytes,
            acl,
          }),
        ],
        [HEALTH_SERVICE, health.implementation()],
      ],
    });
    await Promise.all(shards.map((shard) => shard.ready()));
  } catch (error) {
    await Promise.all(shards.map((shard) => shard.close()));
    throw error;
  }
  health.setAll("SERVING");
  const server = grpcServer;
  log.info(
    `serving ganache.cfe.CFE on ${options.host}:${server.port} with ${options.workers} worker shards of ${perShard} bytes; client certificates ${
      options.clientAuth ? "required" : "not required"
    }${acl ? `; ACL ${options.acl}` : ""}`,
  );
  return {
    port: server.port,
    shards,
    health,
    close: async () => {
      health.setAll("NOT_SERVING");
      health.close();
      await server.shutdown(options.shutdownGraceMs);
      await Promise.all(shards.map((shard) => shard.close()));
    },
  };
}

/** Runs the `start` role until SIGINT or SIGTERM, then stops gracefully. */
export async function run(options: StartOptions): Promise<void> {
  const service = await startService(options);
  await onShutdownSignal();
  log.info("shutting down: draining calls in flight");
  await service.close();
  log.info("stopped");
}
