/**
 * The pieces the deciding replica (`apply_decider.ts`) builds its
 * decisions from: `CacheOps` stamped by the replica's clock, operation
 * results, and writes as `Replicate` entries.
 *
 * @module
 */
import { CacheOps } from "../shards/cache_ops.ts";
import type { ShardStore } from "../store/store.ts";
import { InvalidArgumentError, toServiceError } from "../wire/errors.ts";
import type { AnyValue } from "../wire/messages.ts";
import type { ShardWrite } from "../wire/shard.ts";
import type { OperationResult } from "./apply_messages.ts";
import type { ReplicaMemory } from "./replica_memory.ts";
import type { WriteEntry } from "./shard_messages.ts";

/** The value of a tombstone. */
export const NO_VALUE: AnyValue = { typeUrl: "", value: new Uint8Array(0) };

/** `CacheOps` with versions from the replica's clock. */
export class ClusterOps extends CacheOps {
  readonly #memory: ReplicaMemory;

  /**
   * @param store The replica's store.
   * @param memory Its clock.
   */
  constructor(store: ShardStore, memory: ReplicaMemory) {
    super(store);
    this.#memory = memory;
  }

  /** A version above every one the replica has met. */
  override stamp(): number {
    return this.#memory.next();
  }
}

/** A successful result. */
export function ok(fields: Partial<OperationResult> = {}): OperationResult {
  return {
    code: 0,
    message: "",
    value: "",
    version: 0,
    existed: false,
    ...fields,
  };
}

/** A failed result, from what was thrown. */
export function failure(error: unknown): OperationResult {
  const { code, details } = toServiceError(error);
  return ok({ code, message: details });
}

/** A write as a `Replicate` entry. */
export function toEntry(write: ShardWrite): WriteEntry {
  const tombstone = write.tombstone === true;
  return {
    key: write.key,
    found: !tombstone,
    data: tombstone ? null : write.value,
    ttlMs: write.ttlMs,
    version: write.version ?? 0,
    tombstone,
  };
}

/** The delta of an increment, exactly. */
export function parseDelta(delta: string): bigint {
  if (!/^-?\d+$/.test(delta)) {
    throw new InvalidArgumentError(`delta is not an integer: "${delta}"`);
  }
  return BigInt(delta);
}
