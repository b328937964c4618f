/**
 * {@linkcode ShardRegistrar}: a shard process's registration in etcd. It
 * claims a shard number, registers as `joining`, then `ready`, and keeps
 * the registration alive until it is revoked.
 *
 * @module
 */
import type { Etcd3, Lease } from "etcd3";
import { logger } from "../ops/log.ts";
import {
  CLAIM_KEY,
  readRegistrations,
  type Registered,
  RESYNC_MS,
  shardKey,
  type ShardRecord,
} from "./registry.ts";

const log = logger("registry");

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
  /**
   * Called after registering again once the registration was lost (frontends
   * dropped it meanwhile, so it missed writes): a ready replica registers
   * again as `healing` and must copy its shard again.
   */
  onRegisteredAgain?: () => void;
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
        await readRegistrations(this.#etcd, this.#options.shards),
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
    // Registering took answers from etcd: up from the start, not after a tick.
    this.#options.onEtcd?.(true);
    this.#timer = setInterval(() => this.#check(), RESYNC_MS);
    log.info(
      `registered ${this.#options.address} as a replica of shard ${this.#shard} (joining)`,
    );
    return this.#shard;
  }

  /**
   * Sets the registration's state: `ready` (frontends may read from it) or
   * `healing` (copying its shard again: writes only).
   */
  async setState(state: "ready" | "healing"): Promise<void> {
    this.#state = state;
    await this.#put();
    log.info(
      `shard ${this.#shard} replica ${this.#options.address} is ${state}`,
    );
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
          // Frontends dropped the registration, so writes stopped coming:
          // no reads until the shard is copied again.
          if (this.#state === "ready") this.#state = "healing";
          await this.#put();
          log.info(
            `registered again as a replica of shard ${this.#shard} (${this.#state})`,
          );
          if (this.#state === "healing") this.#options.onRegisteredAgain?.();
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
