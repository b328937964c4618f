/**
 * The wire contract: gRPC service definitions and message shapes of
 * `ganache.cfe.CFE` and `grpc.health.v1.Health`, built from the generated
 * descriptor (see `shared/proto/`).
 *
 * @module
 */
import * as protoLoader from "@grpc/proto-loader";
import type * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { DESCRIPTOR } from "./generated/descriptor.ts";
import type { ShardCounters } from "./shard.ts";

/** How messages map to JavaScript: camelCase fields, uint64 as number. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Every Ganache message and service, as grpc-js and reflection take them. */
export const PACKAGE_DEFINITION = protoLoader.fromJSON(
  DESCRIPTOR as unknown as protobuf.INamespace,
  LOADER_OPTIONS,
);

/** The `ganache.cfe.CFE` service definition, for clients. */
export const CFE_SERVICE =
  PACKAGE_DEFINITION["ganache.cfe.CFE"] as grpc.ServiceDefinition;

/**
 * A request that could not be decoded. grpc-js answers INTERNAL when a
 * deserializer throws; the server definition hands this to the handler
 * instead, so that it can answer INVALID_ARGUMENT.
 */
export class MalformedRequest {
  /** What the decoder said. */
  readonly reason: string;

  /** @param reason What the decoder said. */
  constructor(reason: string) {
    this.reason = reason;
  }
}

/**
 * A service definition whose request decoders return a
 * {@linkcode MalformedRequest} instead of throwing.
 */
function tolerant(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(service).map(([name, method]) => [name, {
      ...method,
      requestDeserialize: (bytes: Uint8Array) => {
        try {
          return method.requestDeserialize(bytes as never);
        } catch (error) {
          return new MalformedRequest((error as Error).message);
        }
      },
    }]),
  );
}

/** The `ganache.cfe.CFE` service definition for servers (see {@linkcode MalformedRequest}). */
export const CFE_SERVER_SERVICE = tolerant(CFE_SERVICE);

/** The internal `ganache.shard.Shard` service definition (frontends to shards). */
export const SHARD_SERVICE = PACKAGE_DEFINITION[
  "ganache.shard.Shard"
] as grpc.ServiceDefinition;

/** The `ganache.shard.Shard` definition for servers (see {@linkcode MalformedRequest}). */
export const SHARD_SERVER_SERVICE = tolerant(SHARD_SERVICE);

/** The `grpc.health.v1.Health` service definition. */
export const HEALTH_SERVICE = PACKAGE_DEFINITION[
  "grpc.health.v1.Health"
] as grpc.ServiceDefinition;

/** A protobufjs root holding every message type, for encoding `Any` payloads. */
export const PROTO_ROOT = protobuf.Root.fromJSON(
  DESCRIPTOR as unknown as protobuf.INamespace,
);

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
