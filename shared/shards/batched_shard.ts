/**
 * {@linkcode BatchedShard}: the {@linkcode Shard} operations over a
 * message channel to a shard worker, batched per event-loop turn. The local
 * shard of the main thread (`WorkerShard`) and of other frontend threads
 * (`PortShard`) differ only in how a batch is posted.
 *
 * @module
 */
import { Batcher } from "./batcher.ts";
import { GanacheError } from "../wire/errors.ts";
import type {
  CacheOpsShard,
  SetCondition,
  Shard,
  ShardWrite,
  StoredValue,
} from "../wire/shard.ts";
import type { ShardCounters } from "../wire/messages.ts";
import { packWrites } from "./write_packing.ts";
import {
  type BatchMessage,
  isFailure,
  type OpResult,
  type ShardOp,
  type ShardOpResults,
} from "./worker_protocol.ts";

/** Matches batch replies to the batches in flight on one channel. */
export class Exchange {
  #next = 1;
  readonly #inFlight = new Map<number, PromiseWithResolvers<OpResult[]>>();

  /**
   * Posts a batch, its writes packed into one transferred buffer
   * (see `write_packing.ts`); resolves with its results.
   */
  send(
    post: (message: BatchMessage, transfer: ArrayBuffer[]) => void,
    ops: ShardOp[],
  ): Promise<OpResult[]> {
    const id = this.#next++;
    const reply = Promise.withResolvers<OpResult[]>();
    this.#inFlight.set(id, reply);
    const packed = packWrites(ops);
    const writes = packed.writes;
    post(
      { kind: "batch", id, ops: packed.ops, writes },
      writes ? [writes] : [],
    );
    return reply.promise;
  }

  /** Settles the batch a reply answers. */
  receive(id: number, results: OpResult[]): void {
    this.#inFlight.get(id)?.resolve(results);
    this.#inFlight.delete(id);
  }

  /** Fails every batch in flight (the other end is gone). */
  failAll(error: Error): void {
    for (const reply of this.#inFlight.values()) reply.reject(error);
    this.#inFlight.clear();
  }
}

/** The shard operations, over whatever posts a batch. */
export abstract class BatchedShard implements Shard, CacheOpsShard {
  /** Always `worker`: the data lives in a local shard worker. */
  readonly location = "worker";
  /** How many times the shard's worker was replaced after a crash. */
  abstract readonly restarts: number;
  readonly #batcher = new Batcher<ShardOp, OpResult>((ops) => this.send(ops));

  /** Posts one batch and resolves with the worker's results. */
  protected abstract send(ops: ShardOp[]): Promise<OpResult[]>;

  /** See {@linkcode Shard.close}. */
  abstract close(): Promise<void>;

  /** See {@linkcode Shard.get}. */
  async get(key: string): Promise<StoredValue | undefined> {
    return (await this.#call({ op: "get", key })) ?? undefined;
  }

  /** See {@linkcode Shard.getMany}. */
  async getMany(keys: string[]): Promise<(StoredValue | undefined)[]> {
    const values = await this.#call({ op: "getMany", keys });
    return values.map((value) => value ?? undefined);
  }

  /** See {@linkcode Shard.set}. */
  async set(write: ShardWrite): Promise<void> {
    await this.#call({ op: "set", write });
  }

  /** See {@linkcode Shard.setMany}. */
  async setMany(writes: ShardWrite[]): Promise<void> {
    await this.#call({ op: "setMany", writes });
  }

  /** See {@linkcode Shard.delete}. */
  delete(key: string): Promise<boolean> {
    return this.#call({ op: "delete", key });
  }

  /** See {@linkcode Shard.ttl}. */
  async ttl(key: string): Promise<number | undefined> {
    const left = await this.#call({ op: "ttl", key });
    return left < 0 ? undefined : left;
  }

  /** See {@linkcode CacheOpsShard.setIf}. */
  setIf(write: ShardWrite, condition: SetCondition): Promise<number> {
    return this.#call({ op: "setIf", write, condition });
  }

  /** See {@linkcode CacheOpsShard.increment}. */
  increment(key: string, delta: bigint, ttlMs: number): Promise<bigint> {
    return this.#call({ op: "increment", key, delta, ttlMs });
  }

  /** See {@linkcode CacheOpsShard.touch}. */
  touch(key: string, ttlMs: number): Promise<boolean> {
    return this.#call({ op: "touch", key, ttlMs });
  }

  /** See {@linkcode CacheOpsShard.deleteMany}. */
  deleteMany(keys: string[]): Promise<boolean[]> {
    return this.#call({ op: "deleteMany", keys });
  }

  /** See {@linkcode CacheOpsShard.flushNamespace}. */
  async flushNamespace(namespace: string): Promise<void> {
    await this.#call({ op: "flush", namespace });
  }

  /** See {@linkcode Shard.stats}. */
  stats(): Promise<ShardCounters> {
    return this.#call({ op: "stats" });
  }

  async #call<K extends ShardOp["op"]>(
    op: Extract<ShardOp, { op: K }>,
  ): Promise<ShardOpResults[K]> {
    const result = await this.#batcher.add(op);
    if (isFailure(result)) throw new GanacheError(result.code, result.message);
    return result as ShardOpResults[K];
  }
}
