/**
 * The messages between a frontend and its shard workers.
 *
 * Requests travel in batches: every operation enqueued in one turn of the
 * frontend's event loop goes in one message, and the worker answers the
 * whole batch with one message, results in the same order.
 *
 * @module
 */
import type { SetCondition, ShardWrite, StoredValue } from "../wire/shard.ts";
import type { ShardCounters } from "../wire/messages.ts";
import type { LogFormat, LogLevel } from "../ops/log.ts";

/** One operation on a shard's store. */
export type ShardOp =
  | { op: "get"; key: string }
  | { op: "getMany"; keys: string[] }
  | { op: "set"; write: ShardWrite }
  | { op: "setMany"; writes: ShardWrite[] }
  | { op: "delete"; key: string }
  | { op: "ttl"; key: string }
  | { op: "stats" }
  | { op: "setIf"; write: ShardWrite; condition: SetCondition }
  | { op: "increment"; key: string; delta: bigint; ttlMs: number }
  | { op: "touch"; key: string; ttlMs: number }
  | { op: "deleteMany"; keys: string[] }
  | { op: "flush"; namespace: string };

/**
 * An operation as a worker receives it: a write names where it starts in
 * the batch's packed writes (see `write_packing.ts`), a `setMany` also how
 * many writes its run holds.
 */
export type WorkerOp =
  | Exclude<ShardOp, { op: "set" | "setMany" | "setIf" }>
  | { op: "set"; at: number }
  | { op: "setMany"; at: number; count: number }
  | { op: "setIf"; at: number; condition: SetCondition };

/** What each operation answers with, by its `op`. */
export interface ShardOpResults {
  /** The value and its version, or `null` on a miss. */
  get: StoredValue | null;
  /** One slot per key; `null` on a miss. */
  getMany: (StoredValue | null)[];
  /** Nothing. */
  set: null;
  /** Nothing. */
  setMany: null;
  /** Whether the key existed. */
  delete: boolean;
  /** Milliseconds left, 0 for no expiry, -1 on a miss. */
  ttl: number;
  /** The store's counters. */
  stats: ShardCounters;
  /** The version written. */
  setIf: number;
  /** The counter's new value. */
  increment: bigint;
  /** Whether the key was there. */
  touch: boolean;
  /** Per key, whether it was there. */
  deleteMany: boolean[];
  /** Nothing. */
  flush: null;
}

/** An operation that failed, with the gRPC status code it maps to. */
export interface OpFailure {
  /** Marks the result as a failure. */
  failed: true;
  /** The gRPC status code. */
  code: number;
  /** What was wrong. */
  message: string;
}

/** The result of one operation: its value, or a failure. */
export type OpResult = ShardOpResults[keyof ShardOpResults] | OpFailure;

/** A batch of operations, applied in order. */
export interface BatchMessage {
  /** Marks a batch. */
  kind: "batch";
  /** Matches the reply to the batch. */
  id: number;
  /** The operations, applied in order. */
  ops: WorkerOp[];
  /** The batch's writes, packed, if it has any; transferred with it. */
  writes?: ArrayBuffer;
}

/** Messages from the frontend to a worker. */
export type ToWorker =
  | BatchMessage
  | {
    /** A port another frontend thread sends its batches on. */
    kind: "port";
    /** Transferred with the message. */
    port: MessagePort;
  }
  | {
    kind: "init";
    /** The shard's byte budget. */
    maxBytes: number;
    /** The frontend's log level. */
    logLevel: LogLevel;
    /** The frontend's log format. */
    logFormat: LogFormat;
  };

/** Messages from a worker to the frontend. */
export type FromWorker =
  | { kind: "ready" }
  | {
    kind: "results";
    /** The batch's id. */
    id: number;
    /** One result per operation, in order. */
    results: OpResult[];
  };

/** Tells a failure apart from a value. */
export function isFailure(result: unknown): result is OpFailure {
  return typeof result === "object" && result !== null &&
    (result as Partial<OpFailure>).failed === true;
}
