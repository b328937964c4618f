/**
 * The `cfe` role: a frontend of a cluster. It routes each key to its shard
 * exactly as `start` does, through the same `Shard` interface, but its
 * shards are remote processes found in etcd. Several frontends can run
 * side by side: the shard count and membership come from etcd.
 *
 * @module
 */
import type { CfeArgs } from "../shared/args.ts";
import { connectEtcd } from "../shared/cluster/etcd.ts";
import { prepareCerts, startFrontend } from "../shared/frontend/frontend.ts";
import { HybridLogicalClock } from "../shared/cluster/hlc.ts";
import { logger } from "../shared/ops/log.ts";
import { Metrics, shardStatsOf } from "../shared/ops/metrics.ts";
import { Membership } from "../shared/cluster/membership.ts";
import { clusterShardCount } from "../shared/cluster/registry.ts";
import { RemoteShard } from "../shared/cluster/remote_shard.ts";
import { Router } from "../shared/shards/router.ts";
import { serveUntilSignal } from "../shared/ops/signals.ts";
import { clientCredentials, readTlsFiles } from "../shared/frontend/tls.ts";

const log = logger("cfe");

/** Options of the `cfe` role. */
export type CfeOptions = CfeArgs;

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
  try {
    const count = await clusterShardCount(etcd, options.shards);
    const clock = new HybridLogicalClock();
    const shardList: RemoteShard[] = [];
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
        }),
    );
    shardList.push(...shards);
    const frontend = await startFrontend(options, new Router(shards), metrics);
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
