/**
 * The cluster's state in etcd: its shard count, and which shard processes
 * serve which shard.
 *
 * Layout:
 * - `ganache/config`: `{"shards": N}`, created by the first frontend or
 *   shard started with `--shards N`.
 * - `ganache/shards/<K>/<host:port>`: one replica of shard K, under a
 *   lease, as JSON (see {@linkcode ShardRecord}).
 * - `ganache/claim`: bumped by every shard that claims a shard number.
 *
 * `shared/cluster/` is what a cluster of processes adds to one process:
 * connecting to etcd (`etcd.ts`) and the flags that say where it is
 * (`etcd_flags.ts`), this registry, a shard process's registration
 * (`registrar.ts`) and the frontends' view of it (`membership.ts`), the
 * remote shard a frontend calls (`remote_shard.ts`, with its batching in
 * `pipelined_batcher.ts`, its writes to every replica in `write_round.ts`
 * and its counters in `replica_counters.ts`), the service a shard process
 * answers with (`shard_service.ts`, `shard_messages.ts`, the `Get` codec
 * both sides use in `shard_codec.ts`, and what it needs from the store in
 * `store_adapter.ts`), and the hybrid logical clock that
 * versions writes to replicas (`hlc.ts`).
 *
 * @module
 */
import type { Etcd3 } from "etcd3";
import { logger } from "../ops/log.ts";

const log = logger("registry");

/** Key of the cluster configuration. */
export const CONFIG_KEY = "ganache/config";
/** Prefix of shard registrations. */
export const SHARDS_PREFIX = "ganache/shards/";
/** Bumped by every shard that claims a shard number, to serialise claims. */
export const CLAIM_KEY = "ganache/claim";
/** How often registrations and membership are checked against etcd, in ms. */
export const RESYNC_MS = 2000;

/** What a shard process registers. */
export interface ShardRecord {
  /** `host:port` it serves on. */
  address: string;
  /**
   * `joining` while it loads its peers' data; `healing` while it copies it
   * again after missing writes; `ready` once it serves reads.
   */
  state: "joining" | "healing" | "ready";
  /** When the process started (ISO 8601). */
  startedAt: string;
  /** Ganache version. */
  version: string;
}

/** One registered replica, as read from etcd. */
export interface Registered extends ShardRecord {
  /** The shard number. */
  shard: number;
  /** The registration's lease: a new one each time the process registers. */
  lease: string;
}

/** The registration key of a replica. */
export function shardKey(shard: number, address: string): string {
  return `${SHARDS_PREFIX}${shard}/${address}`;
}

/** Registrations already warned about, by key and revision: warn once. */
const warned = new Set<string>();

/**
 * Reads every registered replica. A registration whose key or value does
 * not parse, whose address differs from its key's, or (with `shards`)
 * that names a shard outside the count is ignored and logged once.
 */
export async function readRegistrations(
  etcd: Etcd3,
  shards?: number,
): Promise<Registered[]> {
  const response = await etcd.getAll().prefix(SHARDS_PREFIX).exec();
  const found: Registered[] = [];
  for (const kv of response.kvs) {
    const key = kv.key.toString();
    const problem = (reason: string) => {
      const id = `${key}@${kv.mod_revision}`;
      if (warned.has(id)) return;
      warned.add(id);
      log.warn(`ignoring registration ${key}: ${reason}`);
    };
    const match = /^ganache\/shards\/(\d+)\/(.+)$/.exec(key);
    if (!match) {
      problem("the key is not ganache/shards/<shard>/<host:port>");
      continue;
    }
    const shard = Number(match[1]);
    if (shards !== undefined && shard >= shards) {
      problem(`shard ${shard} is outside the cluster's ${shards} shards`);
      continue;
    }
    let record: Partial<ShardRecord>;
    try {
      record = JSON.parse(kv.value.toString());
    } catch {
      problem("the value is not JSON");
      continue;
    }
    if (
      typeof record !== "object" || record === null ||
      record.address !== match[2] ||
      !["joining", "healing", "ready"].includes(record.state as string) ||
      typeof record.startedAt !== "string" ||
      typeof record.version !== "string"
    ) {
      problem(
        "the value is not a registration ({address, state, startedAt, version}, with the key's address)",
      );
      continue;
    }
    found.push({ ...record as ShardRecord, shard, lease: String(kv.lease) });
  }
  return found;
}

/**
 * The cluster's shard count. With `requested`, creates the configuration
 * if there is none; a different existing count is an error. Without it,
 * waits until some other process has created the configuration.
 *
 * @throws {Error} when `requested` disagrees with the cluster.
 */
export async function clusterShardCount(
  etcd: Etcd3,
  requested: number | undefined,
): Promise<number> {
  let waited = false;
  while (true) {
    const config = await etcd.get(CONFIG_KEY).json() as
      | { shards?: number }
      | null;
    if (config?.shards !== undefined) {
      if (requested !== undefined && requested !== config.shards) {
        throw new Error(
          `the cluster has ${config.shards} shards (etcd key ${CONFIG_KEY}); --shards ${requested} disagrees`,
        );
      }
      return config.shards;
    }
    if (requested !== undefined) {
      await etcd.if(CONFIG_KEY, "Version", "==", 0)
        .then(etcd.put(CONFIG_KEY).value(JSON.stringify({ shards: requested })))
        .commit();
      continue; // read back whatever won
    }
    if (!waited) {
      log.info(
        `waiting for ${CONFIG_KEY}: start a frontend or shard with --shards N`,
      );
      waited = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
