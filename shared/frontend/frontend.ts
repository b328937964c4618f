/**
 * The frontend server shared by `start` and `cfe`: certificates, TLS, the
 * ACL, and the `ganache.cfe.CFE` and health services over a router.
 *
 * `shared/frontend/` is the server side that clients meet: this frontend,
 * its gRPC server (`grpc_server.ts`) and the listener in front of it with
 * the connection limits (`listener.ts`, `connection_flags.ts`,
 * `connection_metrics.ts`), the `ganache.cfe.CFE` handlers
 * (`cfe_service.ts`) and the request wrapper both services use
 * (`unary.ts`), the health service (`health.ts`), TLS, certificates
 * and the ACL (`tls.ts`, `certs.ts`, `acl.ts`), the flags of a frontend
 * (`frontend_flags.ts`), and the extra frontend threads of `start`
 * (`frontend_threads.ts`, `frontend_thread.ts` and their protocol).
 *
 * @module
 */
import { Acl } from "./acl.ts";
import type { ConnectionLimits } from "./connection_flags.ts";
import { cfeImplementation } from "./cfe_service.ts";
import { ensureDevCerts, hasCa } from "./certs.ts";
import { type GrpcServer, startGrpcServer } from "./grpc_server.ts";
import { HealthService } from "./health.ts";
import { messageBytesPacer } from "../ops/gc_pacer.ts";
import { logger } from "../ops/log.ts";
import { type Metrics, serveMetrics } from "../ops/metrics.ts";
import type { Router } from "../shards/router.ts";
import { readTlsFiles, serverCredentials, type TlsFiles } from "./tls.ts";
import { CFE_SERVER_SERVICE, HEALTH_SERVICE } from "../wire/services.ts";

const log = logger("frontend");

/** The service name health checks report for the cache. */
export const CFE_SERVICE_NAME = "ganache.cfe.CFE";

/** The frontend's listening and security options. */
export interface FrontendOptions {
  /** The interface to listen on. @default "127.0.0.1" */
  host: string;
  /** The port; 0 picks a free one. @default 40001 */
  port: number;
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
  /** Serve Prometheus metrics and health over HTTP on this port. */
  metricsPort?: number;
  /** Connection limits; each defaults as `DEFAULT_CONNECTION_LIMITS` says. */
  limits?: Partial<ConnectionLimits>;
  /** The GC pacer's step in bytes (`--gc-step`); absent: V8's own schedule. */
  gcStepBytes?: number;
}

/**
 * Makes development certificates if `dir` has no CA, and says where the
 * certificates came from.
 */
export async function prepareCerts(dir: string): Promise<void> {
  if (await hasCa(dir)) {
    log.info(`using certificates from ${dir}`);
  } else {
    await ensureDevCerts(dir);
    log.info(`generated development certificates in ${dir}`);
  }
}

/** A listening frontend. */
export interface Frontend {
  /** The gRPC server. */
  server: GrpcServer;
  /** Its health service (NOT_SERVING until the caller says otherwise). */
  health: HealthService;
  /** The frontend's own certificate files (also its client identity). */
  tls: TlsFiles;
  /** The port of the metrics endpoint, if one was asked for. */
  metricsPort?: number;
  /** NOT_SERVING, then drain calls in flight for the grace period. */
  close(): Promise<void>;
}

/** How a frontend listens and says it is ready, beside its options. */
export interface FrontendRuntime {
  /** Accept on a port that other frontend threads share (`reusePort`). */
  sharedPort?: boolean;
  /**
   * Asked at each `/readyz` besides the health status: whether every shard
   * can serve now (`cfe`: a ready replica that is not marked down).
   */
  ready?: () => boolean;
}

/** Starts the CFE and health services over `router`. */
export async function startFrontend(
  options: FrontendOptions,
  router: Router,
  metrics: Metrics,
  listen: FrontendRuntime = {},
): Promise<Frontend> {
  const tls = await readTlsFiles(options.certs, "cfe", options.clientCa);
  const acl = options.acl ? await Acl.load(options.acl) : undefined;
  const health = new HealthService([CFE_SERVICE_NAME]);
  const server = await startGrpcServer({
    host: options.host,
    port: options.port,
    credentials: serverCredentials(tls, options.clientAuth),
    maxMessageBytes: Math.max(64 * 1024 * 1024, 2 * options.maxValueBytes),
    limits: options.limits,
    graceMs: options.shutdownGraceMs,
    metrics,
    onTlsFailure: () => metrics.tlsHandshakeFailures.inc(),
    sharedPort: listen.sharedPort,
    onMessageBytes: messageBytesPacer(options.gcStepBytes, log, metrics),
    services: [
      [
        CFE_SERVER_SERVICE,
        cfeImplementation({
          router,
          maxValueBytes: options.maxValueBytes,
          acl,
          metrics,
        }),
      ],
      [HEALTH_SERVICE, health.implementation()],
    ],
  });
  log.info(
    `serving ${CFE_SERVICE_NAME} on ${options.host}:${server.port}; client certificates ${
      options.clientAuth ? "required" : "not required"
    }${acl ? `; ACL ${options.acl}` : ""}`,
  );
  const http = options.metricsPort === undefined ? undefined : serveMetrics(
    { host: options.host, port: options.metricsPort },
    metrics,
    () => health.get("") === "SERVING" && (listen.ready?.() ?? true),
  );
  return {
    server,
    health,
    tls,
    metricsPort: http?.port,
    close: async () => {
      health.setAll("NOT_SERVING");
      health.close();
      await server.shutdown(options.shutdownGraceMs);
      await http?.close();
    },
  };
}
