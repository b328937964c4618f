/**
 * {@linkcode Decider}: how a shard replica decides the cache operations
 * (counters, conditional writes, touch) for its shard, and how the other
 * replicas take its decisions.
 *
 * The decider applies each operation atomically in its own store (the
 * read-modify-write logic of `shared/shards/cache_ops.ts`, with versions
 * from its hybrid logical clock, above the version the key held), then
 * sends the result, as a versioned write, to every other replica, and
 * answers once they have it. Each forward names the version the decision
 * was based on: a replica that holds a newer one (a write the decider has
 * not seen: a Set in flight, or a decision of another replica that a
 * frontend took for the decider during a failover) keeps it and says so.
 * The decider then takes that newer state and decides again on top of it,
 * unless the replica already has a result for the same request id (then
 * that result is the answer), so that no operation is lost or applied
 * twice while two replicas decide at once.
 *
 * @module
 */
import { CacheOps } from "../shards/cache_ops.ts";
import type { ShardStore } from "../store/store.ts";
import {
  AbortedError,
  InvalidArgumentError,
  Status,
  toServiceError,
} from "../wire/errors.ts";
import type { AnyValue } from "../wire/messages.ts";
import type { ShardWrite } from "../wire/shard.ts";
import type {
  Forward,
  Forwarded,
  Operation,
  OperationResult,
} from "./apply_messages.ts";
import type { ReplicaMemory } from "./replica_memory.ts";
import { toWrite } from "./shard_service.ts";
import type { WriteEntry } from "./shard_messages.ts";

/** How many times one operation is decided before it gives up (ABORTED). */
export const MAX_DECISIONS = 8;

/** Sends a forward to every other replica; one reply each, none if unreached. */
export type Send = (forward: Forward) => Promise<(Forwarded | undefined)[]>;

/** A decision: the answer, and the write to forward if it wrote. */
interface Decision {
  result: OperationResult;
  forward?: Forward;
}

/**
 * The versions this decider wrote on a key while operations on it are in
 * flight: its store holds all of them since `start` if it holds `last`.
 */
interface Chain {
  users: number;
  last: number;
  start: number;
}

const NO_VALUE: AnyValue = { typeUrl: "", value: new Uint8Array(0) };

/** `CacheOps` with versions from the replica's clock. */
class ClusterOps extends CacheOps {
  readonly #memory: ReplicaMemory;

  constructor(store: ShardStore, memory: ReplicaMemory) {
    super(store);
    this.#memory = memory;
  }

  override stamp(): number {
    return this.#memory.next();
  }
}

/** A successful result. */
function ok(fields: Partial<OperationResult> = {}): OperationResult {
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
function failure(error: unknown): OperationResult {
  const { code, details } = toServiceError(error);
  return ok({ code, message: details });
}

/** A write as a `Replicate` entry. */
function toEntry(write: ShardWrite): WriteEntry {
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
function parseDelta(delta: string): bigint {
  if (!/^-?\d+$/.test(delta)) {
    throw new InvalidArgumentError(`delta is not an integer: "${delta}"`);
  }
  return BigInt(delta);
}

/** Decides operations for a shard, and takes another replica's decisions. */
export class Decider {
  readonly #store: ShardStore;
  readonly #memory: ReplicaMemory;
  readonly #ops: ClusterOps;
  readonly #chains = new Map<string, Chain>();
  readonly #pending = new Map<string, Promise<OperationResult>>();

  /**
   * @param store The replica's store.
   * @param memory Its recent results, flushes and clock.
   */
  constructor(store: ShardStore, memory: ReplicaMemory) {
    this.#store = store;
    this.#memory = memory;
    this.#ops = new ClusterOps(store, memory);
  }

  /**
   * Decides `op` and sends the result to the other replicas; resolves with
   * the answer. A request id seen before is answered as it was then (or,
   * while it runs, when it is done), not applied again. The decision
   * itself is made before this returns (synchronously), so operations
   * given in turn are decided, and forwarded, in that order.
   */
  run(op: Operation, send: Send): Promise<OperationResult> {
    const known = this.#memory.result(op.requestId);
    if (known !== undefined) return Promise.resolve(known);
    const pending = this.#pending.get(op.requestId);
    if (pending !== undefined) return pending;
    const running = this.#decideAndSend(op, send).finally(() =>
      this.#pending.delete(op.requestId)
    );
    this.#pending.set(op.requestId, running);
    return running;
  }

  /**
   * Takes a decision of the deciding replica: applies it unless this
   * replica holds a newer version than the decision was based on (then
   * says what it holds), and remembers the result of its request id.
   */
  replicate(forward: Forward): Forwarded {
    const { entry, base, requestId } = forward;
    this.#memory.observe(entry.version);
    const held = this.#heldVersion(entry.key);
    if (held > base && held !== entry.version) {
      return {
        conflict: true,
        held: this.#heldEntry(entry.key),
        known: this.#memory.result(requestId) ?? null,
      };
    }
    try {
      if (forward.touch && held === entry.version) {
        this.#store.touch(entry.key, entry.ttlMs);
      } else this.#store.set(toWrite(entry));
    } catch {
      // Larger than this replica's whole budget: it keeps a tombstone of
      // that version, so that it serves no older value instead.
      this.#store.set({
        key: entry.key,
        value: NO_VALUE,
        ttlMs: 0,
        version: entry.version,
        tombstone: true,
      });
    }
    this.#memory.remember(requestId, forward.result);
    return { conflict: false };
  }

  async #decideAndSend(op: Operation, send: Send): Promise<OperationResult> {
    const chain = this.#enter(op.key);
    try {
      let decision = this.#decide(op, chain);
      for (let attempt = 1;; attempt++) {
        if (decision.forward === undefined) return decision.result;
        const replies = await send(decision.forward);
        const conflicts = replies.filter((r): r is Forwarded => !!r?.conflict);
        if (conflicts.length === 0) return this.#done(op, decision.result);
        const known = this.#adopt(conflicts);
        if (known) return this.#done(op, known);
        if (attempt >= MAX_DECISIONS) {
          return failure(
            new AbortedError(
              `the key kept changing on other replicas while ${attempt} decisions were sent`,
            ),
          );
        }
        decision = this.#holds(op, chain, decision.forward)
          ? this.#resend(decision)
          : this.#decide(op, chain);
      }
    } finally {
      this.#leave(op.key, chain);
    }
  }

  /** Applies `op` to the store now; the forward carries the write it made. */
  #decide(op: Operation, chain: Chain): Decision {
    const { key } = op;
    const base = this.#heldVersion(key);
    this.#memory.observe(base);
    let result: OperationResult;
    try {
      if (op.increment) {
        const { delta, ttlMs } = op.increment;
        const sum = this.#ops.increment(key, parseDelta(delta), ttlMs);
        result = ok({ value: sum.toString() });
      } else if (op.setIf) {
        const { data, ttlMs, onlyIfAbsent, ifVersion } = op.setIf;
        if (!data) throw new InvalidArgumentError("set_if has no data");
        this.#ops.setIf(
          { key, value: { typeUrl: data.typeUrl, value: data.value }, ttlMs },
          ifVersion === undefined || ifVersion === null
            ? { onlyIfAbsent }
            : { onlyIfAbsent, ifVersion },
        );
        result = ok();
      } else if (op.touch) {
        if (!this.#store.touch(key, op.touch.ttlMs)) return { result: ok() };
        result = ok({ existed: true });
      } else {
        throw new InvalidArgumentError("the operation names no operation");
      }
    } catch (error) {
      return { result: failure(error) };
    }
    const write = this.#store.writeOf(key)!;
    result.version = write.version ?? 0;
    if (!op.touch) {
      if (base !== chain.last || chain.last === 0) chain.start = result.version;
      chain.last = result.version;
    }
    return {
      result,
      forward: {
        requestId: op.requestId,
        base,
        entry: toEntry(write),
        touch: !!op.touch,
        result,
      },
    };
  }

  /** Whether the store still holds what `forward` wrote (and later writes on it). */
  #holds(op: Operation, chain: Chain, forward: Forward): boolean {
    return !op.touch && this.#heldVersion(op.key) === chain.last &&
      forward.entry.version >= chain.start;
  }

  /** The same result again, with the key as the store holds it now. */
  #resend(decision: Decision): Decision {
    const forward = decision.forward!;
    const write = this.#store.writeOf(forward.entry.key);
    if (write === undefined) return { result: decision.result };
    return {
      result: decision.result,
      forward: {
        ...forward,
        base: write.version ?? 0,
        entry: toEntry(write),
      },
    };
  }

  /**
   * Takes the newest state the replicas hold, if newer than this store's;
   * returns a result a replica already has for the request id.
   */
  #adopt(conflicts: Forwarded[]): OperationResult | undefined {
    let newest: WriteEntry | undefined;
    for (const { held } of conflicts) {
      if (held && (!newest || held.version > newest.version)) newest = held;
    }
    if (newest && newest.version > this.#heldVersion(newest.key)) {
      this.#memory.observe(newest.version);
      this.#store.set(toWrite(newest));
    }
    return conflicts.find((c) => c.known)?.known ?? undefined;
  }

  #done(op: Operation, result: OperationResult): OperationResult {
    this.#memory.remember(op.requestId, result);
    return result;
  }

  /** The version `key` holds here: its entry's or its namespace flush's. */
  #heldVersion(key: string): number {
    const version = this.#store.writeOf(key)?.version ?? 0;
    return Math.max(version, this.#memory.floor(key));
  }

  /** What `key` holds here, as an entry; a tombstone when it is absent. */
  #heldEntry(key: string): WriteEntry {
    const floor = this.#memory.floor(key);
    const write = this.#store.writeOf(key);
    if (write !== undefined && (write.version ?? 0) >= floor) {
      return toEntry(write);
    }
    return toEntry({
      key,
      value: NO_VALUE,
      ttlMs: 0,
      version: floor,
      tombstone: true,
    });
  }

  #enter(key: string): Chain {
    let chain = this.#chains.get(key);
    if (chain === undefined) {
      chain = { users: 0, last: 0, start: 0 };
      this.#chains.set(key, chain);
    }
    chain.users++;
    return chain;
  }

  #leave(key: string, chain: Chain): void {
    if (--chain.users === 0) this.#chains.delete(key);
  }
}

/** Whether a result is a success. */
export function succeeded(result: OperationResult): boolean {
  return result.code === Status.OK;
}
