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
 * that result is the answer) or the newer state already holds the
 * operation: while operations on a key are in flight, each replica keeps
 * the versions the key's state descends from (its lineage), and once two
 * replicas have met on a key their forwards and answers carry it. This
 * keeps a short overlap of two deciders exact (tested), and overlaps are
 * short: a replica refuses to decide while an earlier one that it can
 * reach does (`apply_service.ts`). A long overlap (replicas that cannot
 * reach each other) may still lose or double an operation (see the README).
 *
 * @module
 */
import type { ShardStore } from "../store/store.ts";
import { AbortedError, InvalidArgumentError } from "../wire/errors.ts";
import type {
  Forward,
  Forwarded,
  Operation,
  OperationResult,
} from "./apply_messages.ts";
import {
  ClusterOps,
  failure,
  NO_VALUE,
  ok,
  parseDelta,
  toEntry,
} from "./apply_steps.ts";
import { descend, type Lineage, Lineages } from "./lineages.ts";
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
  /** The version the operation wrote (a resend forwards a later one). */
  wrote?: number;
}

/** Decides operations for a shard, and takes another replica's decisions. */
export class Decider {
  readonly #store: ShardStore;
  readonly #memory: ReplicaMemory;
  readonly #ops: ClusterOps;
  readonly #lineages = new Lineages();
  readonly #pending = new Map<string, Promise<OperationResult>>();
  /** The decisions in flight, by request id. */
  readonly #deciding = new Map<string, OperationResult>();

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
    const lineage = this.#lineages.get(entry.key);
    if (held > base) {
      if (lineage !== undefined) lineage.contended = true;
      return {
        conflict: true,
        held: this.#heldEntry(entry.key),
        known: this.#memory.result(requestId) ??
          this.#deciding.get(requestId) ?? null,
        ancestors: lineage?.of === held ? [...lineage.versions] : [held],
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
    if (lineage !== undefined && !forward.touch) {
      // A decision made on exactly what this replica holds descends from
      // all that this state descends from.
      const kept = base === held && lineage.of === held
        ? lineage.versions
        : new Set<number>();
      for (const version of forward.ancestors ?? []) kept.add(version);
      descend(lineage, kept, entry.version);
    }
    this.#memory.remember(requestId, forward.result);
    return { conflict: false };
  }

  async #decideAndSend(op: Operation, send: Send): Promise<OperationResult> {
    const lineage = this.#lineages.enter(op.key);
    try {
      let decision = this.#decide(op, lineage);
      for (let attempt = 1;; attempt++) {
        if (decision.forward === undefined) return decision.result;
        const replies = await send(decision.forward);
        const conflicts = replies.filter((r): r is Forwarded => !!r?.conflict);
        if (conflicts.length === 0) return this.#done(op, decision.result);
        lineage.contended = true;
        const known = this.#adopt(conflicts, lineage);
        if (known) return this.#done(op, known);
        if (attempt >= MAX_DECISIONS) {
          return failure(
            new AbortedError(
              `the key kept changing on other replicas while ${attempt} decisions were sent`,
            ),
          );
        }
        decision = this.#holds(op, lineage, decision.wrote!)
          ? this.#resend(decision, lineage)
          : this.#decide(op, lineage);
      }
    } finally {
      this.#deciding.delete(op.requestId);
      this.#lineages.leave(lineage);
    }
  }

  /** Applies `op` to the store now; the forward carries the write it made. */
  #decide(op: Operation, lineage: Lineage): Decision {
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
    this.#deciding.set(op.requestId, result);
    if (!op.touch) {
      const versions = lineage.of === base ? lineage.versions : new Set([base]);
      descend(lineage, versions, result.version);
    }
    return {
      result,
      wrote: result.version,
      forward: {
        requestId: op.requestId,
        base,
        entry: toEntry(write),
        touch: !!op.touch,
        result,
        ancestors: lineage.contended
          ? [...lineage.versions]
          : base === 0
          ? [result.version]
          : [base, result.version],
      },
    };
  }

  /** Whether the store still holds what `forward` wrote (and later writes on it). */
  #holds(op: Operation, lineage: Lineage, wrote: number): boolean {
    return !op.touch && this.#heldVersion(op.key) === lineage.of &&
      lineage.versions.has(wrote);
  }

  /** The same result again, with the key as the store holds it now. */
  #resend(decision: Decision, lineage: Lineage): Decision {
    const forward = decision.forward!;
    const write = this.#store.writeOf(forward.entry.key);
    if (write === undefined) return { result: decision.result };
    return {
      result: decision.result,
      wrote: decision.wrote,
      forward: {
        ...forward,
        base: write.version ?? 0,
        entry: toEntry(write),
        ancestors: [...lineage.versions],
      },
    };
  }

  /**
   * Takes the newest state the replicas hold, if newer than this store's;
   * returns a result a replica already has for the request id.
   */
  #adopt(
    conflicts: Forwarded[],
    lineage: Lineage,
  ): OperationResult | undefined {
    let newest: Forwarded | undefined;
    for (const conflict of conflicts) {
      const version = conflict.held?.version ?? 0;
      if (version > (newest?.held?.version ?? 0)) newest = conflict;
    }
    const held = newest?.held;
    if (held && held.version > this.#heldVersion(held.key)) {
      this.#memory.observe(held.version);
      this.#store.set(toWrite(held));
      descend(lineage, new Set(newest!.ancestors ?? []), held.version);
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
}
