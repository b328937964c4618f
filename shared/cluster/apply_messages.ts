/**
 * The messages of the cache operations between frontends and shard
 * replicas (`Apply`, `Replicate`, `Flush`, `Recent` in `shard.proto`), as
 * grpc-js hands them over: camelCase fields, uint64 as number, int64
 * counters as decimal strings.
 *
 * @module
 */
import type { AnyValue } from "../wire/messages.ts";
import type { WriteEntry } from "./shard_messages.ts";

/** `ganache.shard.IncrementOp`. */
export interface IncrementOp {
  /** A decimal int64. */
  delta: string;
  /** > 0: the key's new time to live; 0 keeps the key's own. */
  ttlMs: number;
}

/** `ganache.shard.SetIfOp`. */
export interface SetIfOp {
  /** The value to write. */
  data: AnyValue | null;
  /** Its time to live; 0: none. */
  ttlMs: number;
  /** The key must be absent. */
  onlyIfAbsent: boolean;
  /** The key must hold this version (0: absent). */
  ifVersion?: number | null;
}

/** `ganache.shard.TouchOp`. */
export interface TouchOp {
  /** The new time to live; 0 removes the expiry. */
  ttlMs: number;
}

/** `ganache.shard.Operation`: one of the three, on one key. */
export interface Operation {
  /** Names the operation across retries. */
  requestId: string;
  /** The cache key. */
  key: string;
  /** A counter's increment. */
  increment?: IncrementOp | null;
  /** A conditional write. */
  setIf?: SetIfOp | null;
  /** A new time to live. */
  touch?: TouchOp | null;
}

/** `ganache.shard.OperationResult`. */
export interface OperationResult {
  /** 0 (OK), or the status code of the operation's failure. */
  code: number;
  /** Why it failed. */
  message: string;
  /** Increment: the sum, a decimal int64. */
  value: string;
  /** The key's version afterwards. */
  version: number;
  /** Touch: whether the key was there. */
  existed: boolean;
}

/** `ganache.shard.ApplyRequest`. */
export interface ApplyRequest {
  /** The operations, applied in order. */
  operations: Operation[];
  /** The shard's other replicas that take writes. */
  replicas: string[];
  /** Deadline of each `Replicate` call, in ms. */
  forwardTimeoutMs: number;
}

/** `ganache.shard.ApplyResponse`. */
export interface ApplyResponse {
  /** One per operation, in order. */
  results: OperationResult[];
  /** Replicas a result did not reach. */
  unreached: string[];
}

/** `ganache.shard.Forward`: a decided result on its way to a replica. */
export interface Forward {
  /** The operation's request id. */
  requestId: string;
  /** The version the decider's key held when it decided (0: nothing). */
  base: number;
  /** The write, with its version. */
  entry: WriteEntry;
  /** A touch: the key keeps `entry.version` and takes `entry.ttlMs`. */
  touch: boolean;
  /** What the operation answered. */
  result: OperationResult;
  /** Versions of the key the written state descends from, as far as known. */
  ancestors: number[];
}

/** `ganache.shard.ReplicateRequest`. */
export interface ReplicateRequest {
  /** In the order decided. */
  forwards: Forward[];
  /** The deciding replica's address. */
  decider: string;
}

/** `ganache.shard.Forwarded`: what a replica did with one forward. */
export interface Forwarded {
  /** It holds a newer version than the decision's base, kept instead. */
  conflict: boolean;
  /** With a conflict: what it holds (a tombstone when the key is absent). */
  held?: WriteEntry | null;
  /** The result it already has for the request id, if any. */
  known?: OperationResult | null;
  /** With a conflict: the versions `held` descends from, as far as known. */
  ancestors?: number[];
}

/** `ganache.shard.ReplicateResponse`. */
export interface ReplicateResponse {
  /** One per forward, in order. */
  results: Forwarded[];
}

/** `ganache.shard.FlushRequest`. */
export interface FlushRequest {
  /** The namespace to flush. */
  namespace: string;
  /** Keys of the namespace at or below this version are hidden. */
  version: number;
}

/** `ganache.shard.FlushResponse`. */
export interface FlushResponse {
  /** The highest version the replica had met before this flush. */
  highest: number;
}

/** `ganache.shard.NamespaceFlush`. */
export interface NamespaceFlush {
  /** The namespace. */
  namespace: string;
  /** Its flush version. */
  version: number;
  /** How much longer it is remembered, in ms. */
  ttlMs: number;
}

/** `ganache.shard.RecentResult`. */
export interface RecentResult {
  /** The operation's request id. */
  requestId: string;
  /** What it answered. */
  result: OperationResult;
}

/** `ganache.shard.RecentResponse`. */
export interface RecentResponse {
  /** The flushes the replica remembers. */
  flushes: NamespaceFlush[];
  /** The `Apply` results it remembers, oldest first. */
  results: RecentResult[];
}
