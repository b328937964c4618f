/**
 * {@linkcode RemoteShard}: a {@linkcode Shard} whose replicas are remote
 * shard processes, reached over the internal `ganache.shard.Shard` protocol.
 *
 * Gets and writes (values, and tombstones for deletes) travel in batches
 * (`pipelined_batcher.ts`); Gets on each replica's open stream
 * (`get_stream.ts`) unless tracing is on. Writes go to every live replica as one `Write`
 * call, versioned by the frontend's clock, and one that lost to a newer
 * version is stamped again and retried (`write_round.ts`). Reads go to one
 * ready replica in rotation and fail over on a transport failure or a
 * deadline (`replica_failures.ts`). A replica out of rotation is probed
 * every {@linkcode PROBE_MS} and heals without a restart
 * (`replica_healing.ts`).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { PipelinedBatcher } from "./pipelined_batcher.ts";
import { GanacheError, UnavailableError } from "../wire/errors.ts";
import type { HybridLogicalClock } from "./hlc.ts";
import { MAX_BATCH_ITEMS } from "../wire/limits.ts";
import { logger } from "../ops/log.ts";
import type { Shard, ShardWrite } from "../wire/shard.ts";
import type {
  AnyValue,
  EntriesResponse,
  ShardCounters,
} from "../wire/messages.ts";
import {
  callReplica,
  closeReplica,
  connectReplica,
  type Replica,
  type ReplicaInfo,
} from "./replica.ts";
import { FAILED_PRECONDITION } from "./shard_service.ts";
import type { ReplicaStats, WriteResponse } from "./shard_messages.ts";
import { ReplicaCounters } from "./replica_counters.ts";
import { heal } from "./replica_healing.ts";
import { type StatsAnswer, summarize } from "./replica_summary.ts";
import { isTransportFailure, toGanacheError } from "./replica_failures.ts";
import { writeRound, type WriteTarget } from "./write_round.ts";
import type { ReplicaHandle } from "./replica_handle.ts";

const log = logger("remote_shard");

/** How often a replica out of rotation is probed, in ms. */
export const PROBE_MS = 1000;
/** How long reads skip a replica that refused one (FAILED_PRECONDITION), in ms. */
const REFUSED_MS = 1000;

export type { ReplicaInfo };

/** Options for {@linkcode RemoteShard}. */
export interface RemoteShardOptions {
  /** The shard's index, for messages. */
  index: number;
  /** TLS credentials presenting the frontend's certificate. */
  credentials: grpc.ChannelCredentials;
  /** Deadline of each call to a replica, in ms. */
  timeoutMs: number;
  /** Issues write versions, and learns every version met. */
  clock: HybridLogicalClock;
  /** Called when a read moves on to another replica after one failed. */
  onFailover?: () => void;
  /** Called when a replica refused a key as not its own: re-read the registry. */
  onStale?: () => void;
}

/** The outcome of one write: whether a value was there (deletes), or why not. */
type Outcome = { existed: boolean } | GanacheError;

/** A shard served by remote replicas. */
export class RemoteShard implements Shard {
  readonly #options: RemoteShardOptions;
  readonly #replicas = new Map<string, Replica>();
  readonly #counters = new ReplicaCounters();
  readonly #gets = new PipelinedBatcher<string, AnyValue | undefined>(
    (keys) => this.getMany(keys),
    MAX_BATCH_ITEMS,
  );
  readonly #writes = new PipelinedBatcher<ShardWrite, Outcome>(
    (writes) => this.#writeBatch(writes),
    MAX_BATCH_ITEMS,
  );
  readonly #probe: ReturnType<typeof setInterval>;
  #turn = 0;

  /** @param options Index, credentials, deadline and clock. */
  constructor(options: RemoteShardOptions) {
    this.#options = options;
    this.#probe = setInterval(() => {
      this.#probeDown();
      for (const replica of this.#replicas.values()) {
        replica.reads.closeIfIdle();
      }
    }, PROBE_MS);
  }

  /** The replicas' addresses, e.g. `remote:10.0.0.1:40011,10.0.0.2:40011`. */
  get location(): string {
    return `remote:${[...this.#replicas.keys()].sort().join(",")}`;
  }

  /** Remote shards are restarted by their operator, not by the frontend. */
  readonly restarts = 0;

  /** Whether any replica can serve reads. */
  get readable(): boolean {
    return this.#readers().length > 0;
  }

  /**
   * Takes the registry's current list of replicas: new ones are connected,
   * re-registered ones get a fresh connection and rejoin the rotation,
   * vanished ones are closed.
   */
  update(replicas: readonly ReplicaInfo[]): void {
    const seen = new Set<string>();
    for (const info of replicas) {
      seen.add(info.address);
      const known = this.#replicas.get(info.address);
      if (known && known.registration === info.registration) {
        if (known.state !== info.state) {
          known.state = info.state;
          log.info(
            `shard ${this.#options.index}: replica ${info.address} is ${info.state}`,
          );
        }
        known.startedAt = info.startedAt;
        continue;
      }
      if (known) closeReplica(known);
      this.#replicas.set(
        info.address,
        connectReplica(info, this.#options.credentials),
      );
      log.info(
        `shard ${this.#options.index}: replica ${info.address} ${
          known ? "re-registered" : "joined"
        } (${info.state})`,
      );
    }
    for (const [address, replica] of this.#replicas) {
      if (seen.has(address)) continue;
      closeReplica(replica);
      this.#replicas.delete(address);
      log.info(`shard ${this.#options.index}: replica ${address} left`);
    }
  }

  /**
   * See {@linkcode Shard.get}. Gets made while earlier batches are out
   * travel to a replica together, as one call.
   */
  get(key: string): Promise<AnyValue | undefined> {
    return this.#gets.add(key);
  }

  /** See {@linkcode Shard.getMany}. */
  async getMany(keys: string[]): Promise<(AnyValue | undefined)[]> {
    const { entries } = await this.#read<EntriesResponse>("Get", { keys });
    return entries.map((e) => {
      if (e.version) this.#options.clock.observe(e.version);
      return e.found && e.data
        ? Object.assign(e.data, { version: e.version })
        : undefined;
    });
  }

  /** See {@linkcode Shard.set}. */
  async set(write: ShardWrite): Promise<void> {
    const outcome = await this.#writes.add(write);
    if (outcome instanceof GanacheError) throw outcome;
  }

  /**
   * See {@linkcode Shard.setMany}: each write succeeds or fails on its own;
   * the first failure is thrown after all are done.
   */
  async setMany(writes: ShardWrite[]): Promise<void> {
    const outcomes = await Promise.all(writes.map((w) => this.#writes.add(w)));
    const failed = outcomes.find((o) => o instanceof GanacheError);
    if (failed) throw failed;
  }

  /** See {@linkcode Shard.delete}: a tombstone on every replica. */
  async delete(key: string): Promise<boolean> {
    const outcome = await this.#writes.add({
      key,
      value: NO_VALUE,
      ttlMs: 0,
      tombstone: true,
    });
    if (outcome instanceof GanacheError) throw outcome;
    return outcome.existed;
  }

  /** See {@linkcode Shard.ttl}. */
  async ttl(key: string): Promise<number | undefined> {
    const { entries } = await this.#read<EntriesResponse>("TTL", {
      keys: [key],
    });
    const entry = entries[0];
    return entry?.found ? entry.ttlMs : undefined;
  }

  /**
   * See {@linkcode Shard.stats}: hits, misses, evictions and expirations
   * summed over every replica process this frontend has seen (so they never
   * decrease, even when a replica leaves), items and bytes of the fullest
   * ready replica, and every replica with its own counters and state.
   */
  async stats(): Promise<ShardCounters & { replicas: ReplicaStats[] }> {
    const replicas = [...this.#replicas.values()];
    const answers = await Promise.all(
      replicas.map((replica) =>
        this.#call<StatsAnswer>(replica, "Stats", {}).then(
          (answer) => answer,
          () => undefined,
        )
      ),
    );
    return summarize(
      this.#options.index,
      replicas.map((replica, i) => ({
        process: `${replica.address} ${replica.startedAt}`,
        address: replica.address,
        state: this.#stateOf(replica),
        answer: answers[i],
      })),
      this.#counters,
    );
  }

  /** The replicas that take writes, for the cache operations (`cluster_shard.ts`). */
  writers(): ReplicaHandle[] {
    const readers = this.#readers();
    return [...this.#replicas.values()].filter((r) => r.health !== "down")
      .map((r) => ({
        address: r.address,
        ready: readers.includes(r),
        call: <T>(method: string, request: unknown) =>
          this.#call<T>(r, method, request),
        failed: (error: unknown) => this.#failed(r, error),
        refused: (error: unknown) => this.#refused(r, error),
      }));
  }

  /** Closes every replica's connection. */
  close(): Promise<void> {
    clearInterval(this.#probe);
    for (const replica of this.#replicas.values()) closeReplica(replica);
    this.#replicas.clear();
    return Promise.resolve();
  }

  #stateOf(replica: Replica): string {
    return replica.health === "up" ? replica.state : replica.health;
  }

  #readers(): Replica[] {
    const now = Date.now();
    return [...this.#replicas.values()].filter((r) =>
      r.health === "up" && r.state === "ready" && r.refusedUntil <= now
    );
  }

  /** Reads from one ready replica, failing over to the others in turn. */
  async #read<T>(method: string, request: unknown): Promise<T> {
    const readers = this.#readers();
    const start = this.#turn++;
    for (let i = 0; i < readers.length; i++) {
      const replica = readers[(start + i) % readers.length]!;
      if (replica.health !== "up") continue;
      try {
        return await this.#call<T>(replica, method, request);
      } catch (error) {
        const code = (error as Partial<grpc.ServiceError>).code;
        if (code === FAILED_PRECONDITION) {
          this.#refused(replica, error);
          continue;
        }
        if (!this.#failed(replica, error)) throw toGanacheError(error);
        if (i + 1 < readers.length) this.#options.onFailover?.();
      }
    }
    throw new UnavailableError(
      `shard ${this.#options.index} has no live replica`,
    );
  }

  /** Sends a batch of writes to every live replica: see `write_round.ts`. */
  #writeBatch(writes: ShardWrite[]): Promise<Outcome[]> {
    const targets: WriteTarget[] = [...this.#replicas.values()]
      .filter((r) => r.health !== "down")
      .map((replica) => ({
        name: replica.address,
        write: (request) =>
          this.#call<WriteResponse>(replica, "Write", request).catch(
            (error) => {
              const code = (error as Partial<grpc.ServiceError>).code;
              if (code === FAILED_PRECONDITION) this.#refused(replica, error);
              else this.#failed(replica, error);
              throw error;
            },
          ),
      }));
    return writeRound(writes, targets, {
      shard: this.#options.index,
      clock: this.#options.clock,
      isTransportFailure: isTransportFailure,
    });
  }

  /**
   * Takes a replica out of rotation if the error is a transport failure or
   * a deadline; tells whether it was (as opposed to the request being
   * refused, which goes back to the client).
   */
  #failed(replica: Replica, error: unknown): boolean {
    if (!isTransportFailure(error)) return false;
    if (replica.health !== "down") {
      replica.health = "down";
      log.warn(
        `shard ${this.#options.index}: replica ${replica.address} failed (${
          (error as Error).message
        }); out of rotation until it answers again and has copied its shard`,
      );
    }
    return true;
  }

  /** A replica refused a key as not its own, or a read while it copies. */
  #refused(replica: Replica, error: unknown): void {
    const first = replica.refusedUntil <= Date.now();
    replica.refusedUntil = Date.now() + REFUSED_MS;
    if (first) {
      log.warn(
        `shard ${this.#options.index}: replica ${replica.address} refused (${
          (error as Error).message
        }); reading the registry again`,
      );
      this.#options.onStale?.();
    }
  }

  /**
   * Probes every replica that is out of rotation; one that answers gets
   * writes again at once and is asked to copy its shard again, then serves
   * reads.
   */
  #probeDown(): void {
    for (const replica of this.#replicas.values()) {
      if (replica.health !== "down") continue;
      heal(
        replica,
        this.#options.index,
        (method, timeoutMs) => this.#call(replica, method, {}, timeoutMs),
      );
    }
  }

  #call<T>(
    replica: Replica,
    method: string,
    request: unknown,
    timeoutMs = this.#options.timeoutMs,
  ): Promise<T> {
    return callReplica<T>(replica, method, request, timeoutMs);
  }
}

const NO_VALUE: AnyValue = { typeUrl: "", value: new Uint8Array(0) };
