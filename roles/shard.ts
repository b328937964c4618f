/**
 * The `shard` role: a remote shard process. It holds one byte-bounded LRU,
 * serves the internal `ganache.shard.Shard` protocol over mutual TLS to
 * frontends and peer shards only, and registers in etcd under a lease.
 *
 * A replica that joins a shard first registers as `joining` (so it gets
 * every write from then on), waits until every frontend has seen that,
 * copies the shard's contents from a ready peer, then registers as `ready`
 * (so it serves reads): it never answers a miss for data its peers hold.
 * A copy that fails is tried again; only the first replica of a shard (no
 * ready peer) starts empty. A frontend that finds a replica missed writes
 * asks it to copy again (`Resync`): it is `healing` meanwhile.
 *
 * @module
 */
import type { Etcd3 } from "etcd3";
import { connectEtcd, type EtcdOptions } from "../shared/cluster/etcd.ts";
import {
  ETCD_FLAGS,
  etcdOptions,
  SHARD_COUNT_FLAG,
} from "../shared/cluster/etcd_flags.ts";
import { coalesce, copyFromPeers } from "../shared/cluster/join_copy.ts";
import { ShardRegistrar } from "../shared/cluster/registrar.ts";
import { clusterShardCount, RESYNC_MS } from "../shared/cluster/registry.ts";
import {
  type Ownership,
  shardImplementation,
} from "../shared/cluster/shard_service.ts";
import {
  type FlagValues,
  listenFlags,
  maxBytesFlag,
  type RoleSpec,
} from "../shared/flags.ts";
import { PEER_COMMON_NAMES } from "../shared/frontend/certs.ts";
import {
  CONNECTION_FLAGS,
  type ConnectionLimits,
  connectionLimits,
} from "../shared/frontend/connection_flags.ts";
import { prepareCerts } from "../shared/frontend/frontend.ts";
import { startGrpcServer } from "../shared/frontend/grpc_server.ts";
import { HealthService } from "../shared/frontend/health.ts";
import {
  clientCredentials,
  readTlsFiles,
  serverCredentials,
} from "../shared/frontend/tls.ts";
import { ApplyService } from "../shared/cluster/apply_service.ts";
import { ReplicaMemory } from "../shared/cluster/replica_memory.ts";
import { logger } from "../shared/ops/log.ts";
import { Metrics, serveMetrics } from "../shared/ops/metrics.ts";
import { serveUntilSignal } from "../shared/ops/signals.ts";
import {
  GC_STEP_FLAG,
  messageBytesPacer,
  parseGcStep,
} from "../shared/ops/gc_pacer.ts";
import { GANACHE_VERSION } from "../shared/ops/version.ts";
import { PURGE_INTERVAL_MS, ShardStore } from "../shared/store/store.ts";
import { HEALTH_SERVICE } from "../shared/wire/services.ts";
import { SHARD_SERVER_DEFINITION } from "../shared/cluster/shard_codec.ts";

const log = logger("shard");

/** The service name health checks report for a shard. */
export const SHARD_SERVICE_NAME = "ganache.shard.Shard";

/**
 * How long a joining replica waits before it copies: the longest a frontend
 * takes to see a registration (its periodic re-read of the registry), so
 * that every write the copy does not carry reaches the replica directly.
 */
const JOIN_SETTLE_MS = RESYNC_MS + 500;

/** What `shard` takes on the command line. */
export const SPEC: RoleSpec = {
  usage: "shard --etcd URLS [flags]",
  summary: "A remote shard process: one LRU, registered in etcd under a lease.",
  positionals: [],
  flags: {
    ...listenFlags("40011"),
    ...CONNECTION_FLAGS,
    ...ETCD_FLAGS,
    shard: {
      type: "string",
      value: "K",
      help: "serve shard K (default: the shard with the fewest replicas)",
    },
    shards: SHARD_COUNT_FLAG,
    advertise: {
      type: "string",
      value: "HOST:PORT",
      help: "address to register in etcd (default: --host and the port)",
    },
    "max-bytes": maxBytesFlag("this replica's capacity"),
    "gc-step": GC_STEP_FLAG,
    certs: {
      type: "string",
      default: "certs",
      value: "DIR",
      help:
        "ca.crt, shard.crt, shard.key; generated on first start if there is no CA",
    },
    "lease-ttl": {
      type: "string",
      default: "5",
      value: "SECONDS",
      help: "registration lease TTL: how long a crashed shard stays listed",
    },
  },
};

/** Options of the `shard` role. */
export interface ShardOptions {
  /** Where etcd is. */
  etcd: EtcdOptions;
  /** A fixed shard number; by default the least-replicated one. */
  shard?: number;
  /** The cluster's shard count, if this process may create the configuration. */
  shards?: number;
  /** The interface to listen on. @default "127.0.0.1" */
  host: string;
  /** The port; 0 picks a free one. @default 40011 */
  port: number;
  /** The address to register; by default `host:port`. */
  advertise?: string;
  /** The store's byte budget. @default 256 MiB */
  maxBytes: number;
  /** The `--gc-step` in bytes; absent: V8's own schedule (see `gc_pacer.ts`). */
  gcStepBytes?: number;
  /** Where `ca.crt`, `shard.crt` and `shard.key` are. @default "certs" */
  certs: string;
  /** Registration lease TTL in seconds. @default 5 */
  leaseTtlSeconds: number;
  /** How long shutdown waits for calls in flight, in ms. @default 5000 */
  shutdownGraceMs: number;
  /** Serve Prometheus metrics and health over HTTP on this port. */
  metricsPort?: number;
  /** Connection limits; each defaults as `DEFAULT_CONNECTION_LIMITS` says. */
  limits?: Partial<ConnectionLimits>;
}

/**
 * The options of `shard` from its parsed {@linkcode SPEC} flags.
 *
 * @throws {UsageError} without `--etcd`, or when a value is out of range.
 */
export function parseOptions(values: FlagValues): ShardOptions {
  const maxBytes = values.size("max-bytes");
  return {
    etcd: etcdOptions(values),
    shard: values.optionalInteger("shard", 0, 65535),
    shards: values.optionalInteger("shards", 1, 65536),
    host: values.text("host")!,
    port: values.integer("port", 0, 65535),
    advertise: values.text("advertise"),
    maxBytes,
    gcStepBytes: parseGcStep(values, maxBytes),
    certs: values.text("certs")!,
    leaseTtlSeconds: values.integer("lease-ttl", 1, 3600),
    shutdownGraceMs: values.integer("shutdown-grace-ms", 0, 3_600_000),
    metricsPort: values.optionalInteger("metrics-port", 0, 65535),
    limits: connectionLimits(values),
  };
}

/** A running shard process. */
export interface RunningShard {
  /** The port it listens on. */
  port: number;
  /** The address it registered. */
  address: string;
  /** Its shard number. */
  shard: number;
  /** The port of the metrics endpoint, if one was asked for. */
  metricsPort?: number;
  /** Deregister, drain, stop. */
  close(): Promise<void>;
}

/** Starts a shard: serve, register as joining, copy from a peer, mark ready. */
export async function startShard(options: ShardOptions): Promise<RunningShard> {
  await prepareCerts(options.certs);
  const tls = await readTlsFiles(options.certs, "shard");
  const store = new ShardStore({ maxBytes: options.maxBytes });
  const memory = new ReplicaMemory();
  const health = new HealthService([SHARD_SERVICE_NAME]);
  let shardNumber = "";
  let ownership: Ownership | undefined;
  let readable = false;
  let address = "";
  let resync: () => Promise<void> = () => Promise.resolve();
  const metrics = new Metrics(() =>
    Promise.resolve([{ shard: shardNumber, counters: store.stats() }])
  );
  // Counters, conditional writes, touch and flush (`apply_decider.ts`).
  const apply = new ApplyService({
    store,
    memory,
    peers: PEER_COMMON_NAMES,
    credentials: clientCredentials(tls),
    self: () => address,
    ownership: () => ownership,
    readable: () => readable,
    metrics,
  });
  const server = await startGrpcServer({
    host: options.host,
    port: options.port,
    credentials: serverCredentials(tls, true),
    maxMessageBytes: 256 * 1024 * 1024,
    limits: options.limits,
    graceMs: options.shutdownGraceMs,
    metrics,
    onTlsFailure: () => metrics.tlsHandshakeFailures.inc(),
    onMessageBytes: messageBytesPacer(options.gcStepBytes, log, metrics),
    services: [
      [
        SHARD_SERVER_DEFINITION,
        {
          ...shardImplementation({
            store,
            peers: PEER_COMMON_NAMES,
            metrics,
            ownership: () => ownership,
            readable: () => readable,
            resync: () => resync(),
            writeFloor: (key, version) => memory.floor(key, version),
          }),
          ...apply.implementation(),
        },
      ],
      [HEALTH_SERVICE, health.implementation()],
    ],
  });
  const purge = setInterval(() => store.purgeExpired(), PURGE_INTERVAL_MS);
  address = options.advertise ?? `${options.host}:${server.port}`;
  let etcd: Etcd3 | undefined;
  let registrar: ShardRegistrar | undefined;
  try {
    etcd = await connectEtcd(options.etcd);
    const shards = await clusterShardCount(etcd, options.shards);
    registrar = new ShardRegistrar(etcd, {
      address,
      shards,
      shard: options.shard,
      leaseTtlSeconds: options.leaseTtlSeconds,
      version: GANACHE_VERSION,
      onEtcd: (up) => metrics.etcdUp.set(up ? 1 : 0),
      onRegisteredAgain: () => {
        readable = false;
        resync().catch((error) =>
          log.error(`could not copy the shard again: ${error.message}`)
        );
      },
    });
    const shard = await registrar.claim();
    shardNumber = String(shard);
    ownership = { shard, shards };
    const copy = (settleMs: number, again = false) =>
      copyFromPeers(etcd!, store, tls, {
        shard,
        shards,
        self: address,
        settleMs,
        again,
        memory,
      });
    await copy(JOIN_SETTLE_MS);
    await registrar.setState("ready");
    readable = true;
    const joined = registrar;
    resync = coalesce(async () => {
      readable = false;
      await joined.setState("healing").catch(() => {});
      await copy(0, true);
      await joined.setState("ready").catch(() => {});
      readable = true;
    });
    health.setAll("SERVING");
    const http = options.metricsPort === undefined ? undefined : serveMetrics(
      { host: options.host, port: options.metricsPort },
      metrics,
      () => health.get("") === "SERVING",
    );
    log.info(
      `shard ${shard} of ${shards} serving on ${options.host}:${server.port} (registered as ${address}), ${options.maxBytes} bytes`,
    );
    const connected = { etcd, registrar };
    return {
      port: server.port,
      address,
      shard,
      metricsPort: http?.port,
      close: async () => {
        // Deregister first, so frontends stop sending here, then drain.
        await connected.registrar.revoke();
        health.setAll("NOT_SERVING");
        health.close();
        await server.shutdown(options.shutdownGraceMs);
        clearInterval(purge);
        apply.close();
        await http?.close();
        connected.etcd.close();
      },
    };
  } catch (error) {
    await registrar?.revoke();
    etcd?.close();
    clearInterval(purge);
    apply.close();
    await server.shutdown(0);
    throw error;
  }
}

/** Runs the `shard` role until SIGINT or SIGTERM. */
export function run(options: ShardOptions): Promise<void> {
  return serveUntilSignal(
    () => startShard(options),
    log,
    "deregistering, then draining calls in flight",
  );
}
