/**
 * The messages of the internal `ganache.shard.Shard` protocol that only the
 * cluster uses (see `shard.proto`), as grpc-js hands them over.
 *
 * @module
 */
import type { ShardCounters, ShardEntry } from "../wire/messages.ts";

/** `ganache.shard.Entry` with the fields a write uses. */
export interface WriteEntry extends ShardEntry {
  /** A delete: the replica keeps a tombstone of `version`. */
  tombstone: boolean;
}

/** `ganache.shard.WritesRequest`. */
export interface WriteRequest {
  /** Values and tombstones to write, in order. */
  entries: WriteEntry[];
}

/** `ganache.shard.WriteResult`: what became of one entry. */
export interface WriteResult {
  /** 0 (OK), or the gRPC status code that refused the entry. */
  code: number;
  /** Why it was refused. */
  message: string;
  /** The version the key holds afterwards: the entry's own if applied. */
  version: number;
  /** For a tombstone: whether a value was there before. */
  existed: boolean;
}

/** `ganache.shard.WriteResponse`. */
export interface WriteResponse {
  /** One result per entry, in order. */
  results: WriteResult[];
}

/** One replica of a shard as `Stats` reports it. */
export interface ReplicaStats extends ShardCounters {
  /** `host:port`. */
  address: string;
  /** `ready`, `joining`, `healing` or `down` (as this frontend sees it). */
  state: string;
}
