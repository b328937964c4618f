/**
 * The cluster's state in etcd: its shard count, and which shard processes
 * serve which shard.
 *
 * Layout:
 * - `ganache/config`: `{"shards": N}`, created by the first frontend or
 *   shard started with `--shards N`.
 * - `ganache/shards/<K>/<host:port>`: one replica of shard K, under a
 *   lease, as JSON (see {@linkcode ShardRecord}).
 *
 * @module
 */
import type { Etcd3, Lease } from "etcd3";
import { logger } from "../ops/log.ts";
import type { ReplicaInfo } from "./remote_shard.ts";

const log = logger("registry");

/** Key of the cluster configuration. */
export const CONFIG_KEY = "ganache/config";
/** Prefix of shard registrations. */
export const SHARDS_PREFIX = "ganache/shards/";
/** Bumped by every shard that claims a shard number, to serialise claims. */
const CLAIM_KEY = "ganache/claim";
/** How often registrations and membership are checked against etcd, in ms. */
export const RESYNC_MS = 2000;

/** What a shard process registers. */
export interface ShardRecord {
  /** `host:port` it serves on. */
  address: string;
  /** `joining` while it loads its peers' data; `ready` once it serves reads. */
  state: "joining" | "ready";
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

/** Reads every registered replica. */
export async function readRegistrations(etcd: Etcd3): Promise<Registered[]> {
  const response = await etcd.getAll().prefix(SHARDS_PREFIX).exec();
  const found: Registered[] = [];
  for (const kv of response.kvs) {
    const match = /^ganache\/shards\/(\d+)\/(.+)$/.exec(kv.key.toString());
    if (!match) continue;
    try {
      const record = JSON.parse(kv.value.toString()) as ShardRecord;
      found.push({
        ...record,
        shard: Number(match[1]),
        lease: String(kv.lease),
      });
    } catch {
      log.warn(`ignoring unreadable registration ${kv.key.toString()}`);
    }
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

/** Options for {@linkcode ShardRegistrar}. */
export interface RegistrarOptions {
  /** The address peers and frontends reach this process at. */
  address: string;
  /** The cluster's shard count. */
  shards: number;
  /** A fixed shard number; without it the least-replicated shard is claimed. */
  shard?: number;
  /** Lease TTL in seconds. */
  leaseTtlSeconds: number;
  /** Ganache version, recorded in the registration. */
  version: string;
  /** Told whether etcd answered, after each check of the registration. */
  onEtcd?: (up: boolean) => void;
}

/**
 * Keeps one shard process registered: a lease with keep-alive, registering
 * again by itself if the lease or the key is lost (an etcd restart, a long
 * partition).
 */
export class ShardRegistrar {
  readonly #etcd: Etcd3;
  readonly #options: RegistrarOptions;
  readonly #startedAt = new Date().toISOString();
  #shard: number | undefined;
  #state: ShardRecord["state"] = "joining";
  #lease: Lease | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #registering: Promise<void> | undefined;
  #closed = false;

  /** @param etcd The etcd client. */
  constructor(etcd: Etcd3, options: RegistrarOptions) {
    this.#etcd = etcd;
    this.#options = options;
    if (
      options.shard !== undefined &&
      !(options.shard >= 0 && options.shard < options.shards)
    ) {
      throw new RangeError(
        `--shard ${options.shard} is out of range: the cluster has ${options.shards} shards (0 to ${
          options.shards - 1
        })`,
      );
    }
  }

  /** The claimed shard number (after {@linkcode ShardRegistrar.claim}). */
  get shard(): number {
    if (this.#shard === undefined) throw new Error("no shard claimed yet");
    return this.#shard;
  }

  /**
   * Claims a shard number (the fixed one, or the one with the fewest live
   * replicas, decided in one transaction) and registers as `joining`.
   */
  async claim(): Promise<number> {
    while (this.#shard === undefined) {
      const claimKv = (await this.#etcd.get(CLAIM_KEY).exec()).kvs[0];
      const claimRevision = claimKv ? String(claimKv.mod_revision) : "0";
      const shard = this.#options.shard ?? leastReplicated(
        await readRegistrations(this.#etcd),
        this.#options.shards,
      );
      const lease = this.#newLease();
      const leaseId = await lease.grant();
      const { succeeded } = await this.#etcd
        .if(CLAIM_KEY, "Mod", "==", claimRevision)
        .then(
          this.#etcd.put(CLAIM_KEY).value(this.#options.address),
          this.#etcd.put(shardKey(shard, this.#options.address)).value(
            this.#record(),
          ).lease(leaseId),
        )
        .commit();
      if (succeeded) {
        this.#shard = shard;
        this.#lease = lease;
      } else {
        await lease.revoke().catch(() => {});
      }
    }
    this.#timer = setInterval(() => this.#check(), RESYNC_MS);
    log.info(
      `registered ${this.#options.address} as a replica of shard ${this.#shard} (joining)`,
    );
    return this.#shard;
  }

  /** Marks the registration `ready`: frontends may read from it. */
  async markReady(): Promise<void> {
    this.#state = "ready";
    await this.#put();
    log.info(`shard ${this.#shard} replica ${this.#options.address} is ready`);
  }

  /** Deregisters at once (revokes the lease) and stops re-registering. */
  async revoke(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#registering?.catch(() => {});
    await this.#lease?.revoke().catch((error) =>
      log.warn(`could not revoke the lease: ${error.message}`)
    );
  }

  #record(): string {
    const record: ShardRecord = {
      address: this.#options.address,
      state: this.#state,
      startedAt: this.#startedAt,
      version: this.#options.version,
    };
    return JSON.stringify(record);
  }

  #newLease(): Lease {
    const lease = this.#etcd.lease(this.#options.leaseTtlSeconds);
    lease.on("lost", (error) => {
      if (this.#closed || lease !== this.#lease || this.#registering) return;
      log.warn(`lease lost (${error.message}); registering again`);
      this.#reregister();
    });
    return lease;
  }

  async #put(): Promise<void> {
    const lease = this.#lease!;
    await lease.put(shardKey(this.shard, this.#options.address)).value(
      this.#record(),
    );
  }

  /** Re-registers if our key is gone or held by another lease. */
  async #check(): Promise<void> {
    if (this.#closed || this.#registering) return;
    try {
      const kv =
        (await this.#etcd.get(shardKey(this.shard, this.#options.address))
          .exec()).kvs[0];
      const ours = kv && this.#lease &&
        String(kv.lease) === String(await this.#lease.grant());
      this.#options.onEtcd?.(true);
      if (!ours) {
        log.warn("registration missing in etcd; registering again");
        this.#reregister();
      }
    } catch {
      // etcd unreachable: keep serving, try again on the next tick.
      this.#options.onEtcd?.(false);
    }
  }

  #reregister(): void {
    if (this.#registering || this.#closed) return;
    this.#registering = (async () => {
      let delay = 250;
      while (!this.#closed) {
        const previous = this.#lease;
        try {
          this.#lease = this.#newLease();
          previous?.revoke().catch(() => {});
          await this.#lease.grant();
          await this.#put();
          log.info(`registered again as a replica of shard ${this.#shard}`);
          return;
        } catch (error) {
          log.warn(
            `registering failed (${
              (error as Error).message
            }); retrying in ${delay} ms`,
          );
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 5000);
        }
      }
    })().finally(() => this.#registering = undefined);
  }
}

/** The shard with the fewest registered replicas (the lowest on a tie). */
function leastReplicated(registered: Registered[], shards: number): number {
  const counts = new Array<number>(shards).fill(0);
  for (const r of registered) if (r.shard < shards) counts[r.shard]!++;
  return counts.indexOf(Math.min(...counts));
}

/**
 * Follows the registrations: calls `onChange` with every shard's replicas
 * whenever they change (an etcd watch, and a full re-read every
 * {@linkcode RESYNC_MS}, so a broken watch cannot leave the view stale).
 * While etcd is unreachable the last view stays in force.
 */
export class Membership {
  readonly #etcd: Etcd3;
  readonly #shards: number;
  readonly #onChange: (replicas: ReplicaInfo[][]) => void;
  readonly #onEtcd: (up: boolean) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #watcher: { cancel(): Promise<void> } | undefined;
  #last = "";
  #reading = false;
  #etcdDown = false;

  /**
   * @param etcd The etcd client.
   * @param shards The cluster's shard count.
   * @param onChange Receives the replicas of each shard, by shard index.
   * @param onEtcd Told whether etcd answered, after each read.
   */
  constructor(
    etcd: Etcd3,
    shards: number,
    onChange: (replicas: ReplicaInfo[][]) => void,
    onEtcd: (up: boolean) => void = () => {},
  ) {
    this.#etcd = etcd;
    this.#shards = shards;
    this.#onChange = onChange;
    this.#onEtcd = onEtcd;
  }

  /** Reads the registrations once, then follows them. */
  async start(): Promise<void> {
    await this.#read(true);
    this.#timer = setInterval(() => this.#read(false), RESYNC_MS);
    await this.#watch();
  }

  /** Stops following. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#watcher?.cancel().catch(() => {});
  }

  async #watch(): Promise<void> {
    try {
      const watcher = await this.#etcd.watch().prefix(SHARDS_PREFIX).create();
      watcher.on("put", () => this.#read(false));
      watcher.on("delete", () => this.#read(false));
      watcher.on("error", () => {
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
    } catch {
      // The periodic re-read keeps the view current; try again then.
    }
  }

  async #read(mustSucceed: boolean): Promise<void> {
    if (this.#reading && !mustSucceed) return;
    this.#reading = true;
    try {
      const registered = await readRegistrations(this.#etcd);
      this.#onEtcd(true);
      if (this.#etcdDown) {
        log.info("etcd is reachable again");
        this.#etcdDown = false;
      }
      if (!this.#watcher && !mustSucceed) await this.#watch();
      const byShard: ReplicaInfo[][] = Array.from(
        { length: this.#shards },
        () => [],
      );
      for (const r of registered) {
        byShard[r.shard]?.push({
          address: r.address,
          state: r.state,
          registration: r.lease,
        });
      }
      byShard.forEach((replicas) =>
        replicas.sort((a, b) => a.address.localeCompare(b.address))
      );
      const view = JSON.stringify(byShard);
      if (view !== this.#last) {
        this.#last = view;
        this.#onChange(byShard);
      }
    } catch (error) {
      if (mustSucceed) throw error;
      this.#onEtcd(false);
      if (!this.#etcdDown) {
        log.warn(
          `etcd unreachable (${
            (error as Error).message
          }); routing with the last known membership`,
        );
        this.#etcdDown = true;
      }
    } finally {
      this.#reading = false;
    }
  }
}
