/**
 * The `cfe` role: a frontend of a cluster. It routes each key to its shard
 * exactly as `start` does, through the same `Shard` interface, but its
 * shards are remote processes found in etcd. Several frontends can run
 * side by side: the shard count and membership come from etcd.
 *
 * @module
 */
import { connectEtcd, type EtcdOptions } from "../shared/cluster/etcd.ts";
import {
  ETCD_FLAGS,
  etcdOptions,
  SHARD_COUNT_FLAG,
} from "../shared/cluster/etcd_flags.ts";
import { HybridLogicalClock } from "../shared/cluster/hlc.ts";
import { Membership } from "../shared/cluster/membership.ts";
import { clusterShardCount } from "../shared/cluster/registry.ts";
import { RemoteShard } from "../shared/cluster/remote_shard.ts";
import { ClusterShard } from "../shared/cluster/cluster_shard.ts";
import type { FlagValues, RoleSpec } from "../shared/flags.ts";
import {
  type FrontendOptions,
  prepareCerts,
  startFrontend,
} from "../shared/frontend/frontend.ts";
import {
  FRONTEND_FLAGS,
  frontendOptions,
} from "../shared/frontend/frontend_flags.ts";
import { clientCredentials, readTlsFiles } from "../shared/frontend/tls.ts";
import { logger } from "../shared/ops/log.ts";
import { Metrics, shardStatsOf } from "../shared/ops/metrics.ts";
import { serveUntilSignal } from "../shared/ops/signals.ts";
import { Router } from "../shared/shards/router.ts";

const log = logger("cfe");

/** What `cfe` takes on the command line. */
export const SPEC: RoleSpec = {
  usage: "cfe --etcd URLS [flags]",
  summary:
    "A cluster frontend: routes to the remote shards registered in etcd.",
  positionals: [],
  flags: {
    ...FRONTEND_FLAGS,
    ...ETCD_FLAGS,
    shards: SHARD_COUNT_FLAG,
    "shard-timeout-ms": {
      type: "string",
      default: "2000",
      value: "MS",
      help: "deadline of each call to a shard replica",
    },
  },
};

/** Options of the `cfe` role. */
export interface CfeOptions extends FrontendOptions {
  /** Where etcd is. */
  etcd: EtcdOptions;
  /** The shard count; creates the cluster configuration if there is none. */
  shards?: number;
  /** Deadline of each call to a shard replica, in ms. @default 2000 */
  shardTimeoutMs: number;
}

/**
 * The options of `cfe` from its parsed {@linkcode SPEC} flags.
 *
 * @throws {UsageError} without `--etcd`, or when a value is out of range.
 */
export function parseOptions(values: FlagValues): CfeOptions {
  return {
    ...frontendOptions(values),
    etcd: etcdOptions(values),
    shards: values.optionalInteger("shards", 1, 65536),
    shardTimeoutMs: values.integer("shard-timeout-ms", 1, 3_600_000),
  };
}

/** A running frontend. */
export interface RunningCfe {
  /** The port it listens on. */
  port: number;
  /** The remote shards, by index. */
  shards: RemoteShard[];
  /** Graceful stop. */
  close(): Promise<void>;
}

/** Starts a frontend of the cluster in etcd. */
export async function startCfe(options: CfeOptions): Promise<RunningCfe> {
  await prepareCerts(options.certs);
  const identity = await readTlsFiles(options.certs, "cfe");
  const etcd = await connectEtcd(options.etcd);
  let membership: Membership | undefined;
  const shardList: RemoteShard[] = [];
  try {
    const count = await clusterShardCount(etcd, options.shards);
    const clock = new HybridLogicalClock();
    const metrics = new Metrics(shardStatsOf(shardList));
    const credentials = clientCredentials(identity);
    const shards = Array.from(
      { length: count },
      (_, index) =>
        new RemoteShard({
          index,
          credentials,
          timeoutMs: options.shardTimeoutMs,
          clock,
          onFailover: () => metrics.failovers.inc({ shard: String(index) }),
          onStale: () => membership?.refresh(),
        }),
    );
    shardList.push(...shards);
    // Counters, conditional writes, touch and flush go through each
    // shard's deciding replica (`cluster_shard.ts`).
    const routed = shards.map((remote, index) =>
      new ClusterShard(remote, {
        index,
        timeoutMs: options.shardTimeoutMs,
        clock,
        onFailover: () => metrics.failovers.inc({ shard: String(index) }),
      })
    );
    // A replica marked down after a failed call changes no registration:
    // /readyz asks the shards themselves.
    const frontend = await startFrontend(options, new Router(routed), metrics, {
      ready: () => shards.every((shard) => shard.readable),
    });
    const report = () => {
      const missing = shards.flatMap((shard, i) => shard.readable ? [] : [i]);
      frontend.health.setAll(missing.length === 0 ? "SERVING" : "NOT_SERVING");
      if (missing.length > 0) {
        log.warn(`shards without a ready replica: ${missing.join(", ")}`);
      }
    };
    membership = new Membership(etcd, count, (replicas) => {
      replicas.forEach((list, i) => shards[i]!.update(list));
      report();
    }, (up) => metrics.etcdUp.set(up ? 1 : 0));
    await membership.start();
    log.info(`routing to ${count} shards`);
    const following = membership;
    return {
      port: frontend.server.port,
      shards,
      close: async () => {
        await frontend.close();
        await following.close();
        await Promise.all(shards.map((shard) => shard.close()));
        etcd.close();
      },
    };
  } catch (error) {
    await membership?.close();
    await Promise.all(shardList.map((shard) => shard.close()));
    etcd.close();
    throw error;
  }
}

/** Runs the `cfe` role until SIGINT or SIGTERM. */
export function run(options: CfeOptions): Promise<void> {
  return serveUntilSignal(
    () => startCfe(options),
    log,
    "draining calls in flight",
  );
}
