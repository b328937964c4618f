/**
 * The messages of the wire contract: the shapes of the `ganache.cfe`,
 * `ganache.shard` and `grpc.health.v1` messages as grpc-js hands them over
 * (camelCase fields, uint64 as number; see `services.ts`).
 *
 * @module
 */

/** `google.protobuf.Any`: a type URL and the encoded message. */
export interface AnyValue {
  /** e.g. `type.googleapis.com/google.protobuf.StringValue`. */
  typeUrl: string;
  /** The encoded message bytes. */
  value: Uint8Array;
}

/** `ganache.cfe.GetRequest`. */
export interface GetRequest {
  /** The namespace part of the cache key. */
  namespace: string;
  /** The key within the namespace. */
  key: string;
}

/** `ganache.cfe.GetResponse`. */
export interface GetResponse {
  /** The stored value. */
  data: AnyValue | null;
  /** The version of the write that stored it (0 where writes have none). */
  version?: number;
}

/** `ganache.cfe.SetRequest`. */
export interface SetRequest {
  /** The namespace part of the cache key. */
  namespace: string;
  /** The key within the namespace. */
  key: string;
  /** The value to store. */
  data: AnyValue | null;
  /** Time to live in milliseconds; 0 means no expiry. */
  ttlMs: number;
  /** Write only if the key is absent (else ALREADY_EXISTS). */
  onlyIfAbsent?: boolean;
  /** Write only if the key holds this version, 0: absent (else ABORTED). */
  ifVersion?: number;
}

/** `ganache.cfe.DeleteRequest`. */
export type DeleteRequest = GetRequest;

/** `ganache.cfe.DeleteResponse`. */
export interface DeleteResponse {
  /** Whether the key was present. */
  existed: boolean;
}

/** `ganache.cfe.MultiGetRequest`. */
export interface MultiGetRequest {
  /** The namespace of every key. */
  namespace: string;
  /** The keys to read. */
  keys: string[];
}

/** `ganache.cfe.MultiGetResult`. */
export interface MultiGetResult {
  /** The key, as requested. */
  key: string;
  /** Whether the key was present. */
  found: boolean;
  /** The value, when found. */
  data: AnyValue | null;
  /** As {@linkcode GetResponse.version}. */
  version?: number;
}

/** `ganache.cfe.MultiGetResponse`. */
export interface MultiGetResponse {
  /** One result per requested key, in request order. */
  results: MultiGetResult[];
}

/** `ganache.cfe.SetItem`. */
export interface SetItem {
  /** The key within the request's namespace. */
  key: string;
  /** The value to store. */
  data: AnyValue | null;
  /** Time to live in milliseconds; 0 means no expiry. */
  ttlMs: number;
}

/** `ganache.cfe.MultiSetRequest`. */
export interface MultiSetRequest {
  /** The namespace of every item. */
  namespace: string;
  /** The items to write. */
  items: SetItem[];
}

/** `ganache.cfe.TTLRequest`. */
export type TTLRequest = GetRequest;

/** `ganache.cfe.TTLResponse`. */
export interface TTLResponse {
  /** Milliseconds left; 0 when the key never expires. */
  ttlMs: number;
}

/** `ganache.cfe.IncrementRequest`: 64-bit fields as decimal strings. */
export interface IncrementRequest {
  /** The namespace part of the cache key. */
  namespace: string;
  /** The key within the namespace. */
  key: string;
  /** What to add, an int64 as a decimal string (exact; see `exact_longs.ts`). */
  delta: string;
  /** > 0: the key's new time to live; 0: it keeps its own (decimal string). */
  ttlMs: string;
}

/** `ganache.cfe.IncrementResponse`. */
export interface IncrementResponse {
  /** The sum, an int64 as a decimal string. */
  value: string;
}

/** `ganache.cfe.TouchRequest`. */
export interface TouchRequest {
  /** The namespace part of the cache key. */
  namespace: string;
  /** The key within the namespace. */
  key: string;
  /** The new time to live; 0 removes the expiry. */
  ttlMs: number;
}

/** `ganache.cfe.TouchResponse`. */
export interface TouchResponse {
  /** Whether the key was present. */
  existed: boolean;
}

/** `ganache.cfe.MultiDeleteRequest`. */
export type MultiDeleteRequest = MultiGetRequest;

/** `ganache.cfe.MultiDeleteResponse`. */
export interface MultiDeleteResponse {
  /** Per key, in request order: whether it was present. */
  existed: boolean[];
}

/** `ganache.cfe.FlushNamespaceRequest`. */
export interface FlushNamespaceRequest {
  /** The namespace to flush. */
  namespace: string;
}

/** A shard's counters, as reported in Stats. */
export interface ShardCounters {
  /** Entries held. */
  items: number;
  /** Bytes of memory the shard's entries take: chunks and index. */
  bytes: number;
  /** The shard's byte budget. */
  capacityBytes: number;
  /** Reads that found a value. */
  hits: number;
  /** Reads that found nothing. */
  misses: number;
  /** Entries removed to make room. */
  evictions: number;
  /** Entries removed because their TTL ran out. */
  expirations: number;
  /** Of `bytes`, those of the hash index. */
  indexBytes: number;
  /**
   * Bytes of the shard's arena ever handed out: resident memory, which
   * free chunks inside it do not give back.
   */
  arenaBytes: number;
}

/** `ganache.cfe.ShardStats`: a shard's counters, and where it is. */
export interface ShardStats extends ShardCounters {
  /** The shard's index in the routing table. */
  shard: number;
  /** Where the shard lives, e.g. `worker`. */
  location: string;
  /** Times the shard was restarted after a crash. */
  restarts: number;
}

/** `ganache.cfe.StatsResponse`. */
export interface StatsResponse {
  /** One entry per shard, by index. */
  shards: ShardStats[];
  /** Resident memory of the answering frontend's process, workers included. */
  residentBytes: number;
}

/** `grpc.health.v1.HealthCheckRequest`. */
export interface HealthCheckRequest {
  /** The service to check; empty for the whole server. */
  service: string;
}

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`. */
export type ServingStatus =
  | "UNKNOWN"
  | "SERVING"
  | "NOT_SERVING"
  | "SERVICE_UNKNOWN";

/** `grpc.health.v1.HealthCheckResponse`. */
export interface HealthCheckResponse {
  /** The serving status. */
  status: ServingStatus;
}

/** `ganache.shard.KeysRequest`. */
export interface KeysRequest {
  /** Cache keys. */
  keys: string[];
}

/** `ganache.shard.Entry`: one key's value as a shard holds it. */
export interface ShardEntry {
  /** The cache key. */
  key: string;
  /** Whether the key is present (in replies). */
  found: boolean;
  /** The value. */
  data: AnyValue | null;
  /** Milliseconds left to live; 0 means no expiry. */
  ttlMs: number;
  /** The write's version. */
  version: number;
}

/** `ganache.shard.EntriesResponse` (also each `Dump` chunk). */
export interface EntriesResponse {
  /** Entries, in request order. */
  entries: ShardEntry[];
}

/** `ganache.shard.WritesRequest`. */
export interface WritesRequest {
  /** Entries to write. */
  entries: ShardEntry[];
}

/** `ganache.shard.DeleteResponse`. */
export interface ShardDeleteResponse {
  /** Per key, whether it was present. */
  existed: boolean[];
}
