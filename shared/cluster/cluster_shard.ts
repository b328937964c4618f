/**
 * {@linkcode ClusterShard}: a remote shard with the cache operations, as a
 * cluster frontend (`cfe`) routes to it.
 *
 * Reads and plain writes go to the {@linkcode RemoteShard} as before.
 * Counters, conditional writes and touch go to the shard's deciding
 * replica: the first ready replica by address, in this frontend's view
 * (`Apply`, see `apply_decider.ts`); it applies them atomically and
 * forwards the versioned results to the other replicas before it answers.
 * Each operation carries a request id made here, so that when the decider
 * fails (a transport failure or a deadline) the same operation is sent to
 * the next one, which answers the first result if the forward reached it,
 * and applies it otherwise: an increment in flight is neither lost nor
 * doubled. A replica the decider could not reach leaves rotation and copies
 * the shard again before it serves. A replica refuses to decide (ABORTED)
 * while an earlier one by address decides and answers it, so a frontend
 * that cannot reach the decider waits and asks again instead of starting a
 * second decider.
 *
 * Multi-delete is plain deletes (versioned tombstones, one write round):
 * a delete does not depend on what the key held, so it needs no decider.
 * A namespace flush goes to every replica with one version, stamped again
 * above the highest version any replica has met if that is higher, so
 * that it hides every write acknowledged before it.
 *
 * @module
 */
import { FAILED_PRECONDITION } from "./shard_service.ts";
import type { HybridLogicalClock } from "./hlc.ts";
import { PipelinedBatcher } from "./pipelined_batcher.ts";
import type { RemoteShard } from "./remote_shard.ts";
import type { ReplicaHandle } from "./replica_handle.ts";
import { toGanacheError } from "./replica_failures.ts";
import type {
  ApplyResponse,
  FlushResponse,
  Operation,
  OperationResult,
} from "./apply_messages.ts";
import { GanacheError, Status, UnavailableError } from "../wire/errors.ts";
import { MAX_BATCH_ITEMS } from "../wire/limits.ts";
import type { ShardCounters } from "../wire/messages.ts";
import type {
  CacheOpsShard,
  SetCondition,
  Shard,
  ShardWrite,
  StoredValue,
} from "../wire/shard.ts";
import type { ReplicaStats } from "./shard_messages.ts";

/** Options of {@linkcode ClusterShard}. */
export interface ClusterShardOptions {
  /** The shard's index, for messages. */
  index: number;
  /** The deadline of each call to a replica, in ms. */
  timeoutMs: number;
  /** Stamps flush versions; learns the replicas' highest. */
  clock: HybridLogicalClock;
  /** Called when an operation moves on to another decider after one failed. */
  onFailover?: () => void;
}

/** An operation before it has its request id. */
type Unnamed = Omit<Operation, "requestId">;

/** A remote shard with counters, conditional writes, touch, and flush. */
export class ClusterShard implements Shard, CacheOpsShard {
  /** The remote shard: its replicas, reads and plain writes. */
  readonly remote: RemoteShard;
  readonly #options: ClusterShardOptions;
  readonly #operations = new PipelinedBatcher<Operation, OperationResult>(
    (operations) => this.#apply(operations),
    MAX_BATCH_ITEMS,
    4,
  );

  /**
   * @param remote The remote shard.
   * @param options Index, deadline and clock.
   */
  constructor(remote: RemoteShard, options: ClusterShardOptions) {
    this.remote = remote;
    this.#options = options;
  }

  /** See {@linkcode Shard.location}. */
  get location(): string {
    return this.remote.location;
  }

  /** See {@linkcode Shard.restarts}. */
  get restarts(): number {
    return this.remote.restarts;
  }

  /** See {@linkcode Shard.get}. */
  get(key: string): Promise<StoredValue | undefined> {
    return this.remote.get(key);
  }

  /** See {@linkcode Shard.getMany}. */
  getMany(keys: string[]): Promise<(StoredValue | undefined)[]> {
    return this.remote.getMany(keys);
  }

  /** See {@linkcode Shard.set}. */
  set(write: ShardWrite): Promise<void> {
    return this.remote.set(write);
  }

  /** See {@linkcode Shard.setMany}. */
  setMany(writes: ShardWrite[]): Promise<void> {
    return this.remote.setMany(writes);
  }

  /** See {@linkcode Shard.delete}. */
  delete(key: string): Promise<boolean> {
    return this.remote.delete(key);
  }

  /** See {@linkcode Shard.ttl}. */
  ttl(key: string): Promise<number | undefined> {
    return this.remote.ttl(key);
  }

  /** See {@linkcode RemoteShard.stats}. */
  stats(): Promise<ShardCounters & { replicas: ReplicaStats[] }> {
    return this.remote.stats();
  }

  /** See {@linkcode Shard.close}. */
  close(): Promise<void> {
    return this.remote.close();
  }

  /** See {@linkcode CacheOpsShard.increment}. */
  async increment(key: string, delta: bigint, ttlMs: number): Promise<bigint> {
    const result = await this.#run({
      key,
      increment: { delta: delta.toString(), ttlMs },
    });
    return BigInt(result.value);
  }

  /** See {@linkcode CacheOpsShard.setIf}. */
  async setIf(write: ShardWrite, condition: SetCondition): Promise<number> {
    const result = await this.#run({
      key: write.key,
      setIf: {
        data: write.value,
        ttlMs: write.ttlMs,
        onlyIfAbsent: condition.onlyIfAbsent,
        ifVersion: condition.ifVersion,
      },
    });
    return result.version;
  }

  /** See {@linkcode CacheOpsShard.touch}. */
  async touch(key: string, ttlMs: number): Promise<boolean> {
    return (await this.#run({ key, touch: { ttlMs } })).existed;
  }

  /** See {@linkcode CacheOpsShard.deleteMany}: a tombstone per key. */
  deleteMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.remote.delete(key)));
  }

  /**
   * See {@linkcode CacheOpsShard.flushNamespace}: every replica that takes
   * writes flushes at one version; if any had met a higher one, all flush
   * again above it.
   */
  async flushNamespace(namespace: string): Promise<void> {
    const { clock, index } = this.#options;
    let version = clock.next();
    for (let round = 1;; round++) {
      const writers = this.remote.writers();
      const replies = await Promise.allSettled(
        writers.map((w) =>
          w.call<FlushResponse>("Flush", { namespace, version })
        ),
      );
      let answered = 0, highest = 0;
      let refusal: GanacheError | undefined;
      replies.forEach((reply, i) => {
        if (reply.status === "fulfilled") {
          answered++;
          highest = Math.max(highest, reply.value.highest);
        } else if (!this.#failed(writers[i]!, reply.reason)) {
          refusal ??= toGanacheError(reply.reason);
        }
      });
      if (refusal) throw refusal;
      if (answered === 0) {
        throw new UnavailableError(
          `shard ${index} has no live replica to flush`,
        );
      }
      clock.observe(highest);
      if (highest < version || round === 2) return;
      version = clock.next();
    }
  }

  async #run(operation: Unnamed): Promise<OperationResult> {
    const result = await this.#operations.add({
      requestId: crypto.randomUUID(),
      ...operation,
    });
    if (result.code !== Status.OK) {
      throw new GanacheError(result.code, result.message);
    }
    return result;
  }

  /**
   * Sends operations to the deciding replica; when it fails, or refuses
   * (not ready), to the next one, with the same request ids.
   */
  async #apply(operations: Operation[]): Promise<OperationResult[]> {
    let lastError: unknown;
    // Replicas that refused to decide because an earlier one does.
    const yielding = new Set<string>();
    for (let attempt = 0; attempt < MAX_DECIDERS; attempt++) {
      const writers = this.remote.writers()
        .sort((a, b) =>
          a.address < b.address ? -1 : a.address > b.address ? 1 : 0
        );
      const decider = writers.find((writer) =>
        writer.ready && !yielding.has(writer.address)
      );
      if (decider === undefined) {
        if (yielding.size === 0) break;
        // The replicas that could decide refused in favour of one this
        // frontend cannot reach: ask again once they have checked it again.
        await new Promise((resolve) => setTimeout(resolve, YIELD_RETRY_MS));
        yielding.clear();
        continue;
      }
      try {
        const response = await decider.call<ApplyResponse>("Apply", {
          operations,
          replicas: writers.filter((w) => w !== decider).map((w) => w.address),
          forwardTimeoutMs: Math.ceil(this.#options.timeoutMs / 2),
        });
        for (const address of response.unreached) {
          writers.find((w) => w.address === address)?.failed(
            unreached(address),
          );
        }
        return response.results;
      } catch (error) {
        lastError = error;
        if ((error as { code?: number }).code === Status.ABORTED) {
          yielding.add(decider.address);
          continue;
        }
        if (!this.#failed(decider, error)) throw toGanacheError(error);
        this.#options.onFailover?.();
      }
    }
    throw new UnavailableError(
      `shard ${this.#options.index} has no ready replica to decide${
        lastError ? ` (${(lastError as Error).message})` : ""
      }`,
    );
  }

  /**
   * A replica's call failed: a transport failure or deadline takes it out
   * of rotation, a refusal skips it for a while; tells whether it was
   * either (else the error is the request's).
   */
  #failed(replica: ReplicaHandle, error: unknown): boolean {
    if ((error as { code?: number }).code === FAILED_PRECONDITION) {
      replica.refused(error);
      return true;
    }
    return replica.failed(error);
  }
}

/** How many deciders one batch of operations is tried on. */
const MAX_DECIDERS = 6;
/** How long to wait before asking replicas that refused to decide again, in ms. */
const YIELD_RETRY_MS = 250;

/** The error that takes a replica the decider could not reach out of rotation. */
function unreached(address: string): GanacheError {
  return new GanacheError(
    Status.UNAVAILABLE,
    `the deciding replica could not forward a result to ${address}`,
  );
}
