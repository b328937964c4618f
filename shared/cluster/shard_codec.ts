/**
 * The `ganache.shard.Shard` definitions with `Get` and `GetStream`, the hot
 * path, encoded and decoded by protobufjs directly: proto-loader's
 * `fromObject` and `toObject` would copy every entry once more on each side.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import type {
  EntriesResponse,
  KeysRequest,
  ShardEntry,
} from "../wire/messages.ts";
import {
  MalformedRequest,
  PROTO_ROOT,
  SHARD_SERVER_SERVICE,
  SHARD_SERVICE,
} from "../wire/services.ts";

const Entries = PROTO_ROOT.lookupType("ganache.shard.EntriesResponse");
const Keys = PROTO_ROOT.lookupType("ganache.shard.KeysRequest");

/** A uint64 as protobufjs decodes it: a number, or a `Long` when long.js is loaded. */
function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  const long = value as { toNumber?: () => number } | null | undefined;
  return long?.toNumber ? long.toNumber() : Number(value ?? 0);
}

/** Decodes a `Get` reply: entries in request order, versions as numbers. */
function decodeEntries(bytes: Buffer): EntriesResponse {
  const { entries } = Entries.decode(bytes) as unknown as {
    entries: ShardEntry[];
  };
  for (const entry of entries) {
    entry.version = toNumber(entry.version);
    entry.ttlMs = toNumber(entry.ttlMs);
  }
  return { entries };
}

/** Decodes a `GetStream` batch; a malformed one as a {@linkcode MalformedRequest}. */
function decodeKeys(bytes: Buffer): KeysRequest | MalformedRequest {
  try {
    return Keys.decode(bytes) as unknown as KeysRequest;
  } catch (error) {
    return new MalformedRequest(
      `ganache.shard.KeysRequest: ${(error as Error).message}`,
    );
  }
}

/** Encodes a batch of keys (`Get` and `GetStream` requests). */
const encodeKeys = (request: { keys: string[] }) =>
  Keys.encode(request).finish() as Buffer;

/** Encodes entries (`Get` and `GetStream` replies). */
const encodeEntries = (response: EntriesResponse) =>
  Entries.encode(response).finish() as Buffer;

/**
 * `GetStream`: batches of keys in, their entries out, in order, on one call
 * that stays open (see `get_stream.ts`); a malformed batch reaches the
 * handler as a {@linkcode MalformedRequest}.
 */
const GET_STREAM: grpc.MethodDefinition<KeysRequest, EntriesResponse> = {
  ...SHARD_SERVICE.GetStream!,
  requestSerialize: encodeKeys,
  requestDeserialize: decodeKeys as (bytes: Buffer) => KeysRequest,
  responseSerialize: encodeEntries,
  responseDeserialize: decodeEntries,
};

/** The client definition (frontends, peers). */
export const SHARD_CLIENT_DEFINITION: grpc.ServiceDefinition = {
  ...SHARD_SERVICE,
  GetStream: GET_STREAM as grpc.MethodDefinition<unknown, unknown>,
  Get: {
    ...SHARD_SERVICE.Get!,
    requestSerialize: encodeKeys,
    responseDeserialize: decodeEntries,
  },
};

/** The server definition (shard processes). */
export const SHARD_SERVER_DEFINITION: grpc.ServiceDefinition = {
  ...SHARD_SERVER_SERVICE,
  GetStream: GET_STREAM as grpc.MethodDefinition<unknown, unknown>,
  Get: {
    ...SHARD_SERVER_SERVICE.Get!,
    responseSerialize: encodeEntries,
  },
};

/** The client class of the `ganache.shard.Shard` service, with that codec. */
export const ShardClient = grpc.makeGenericClientConstructor(
  SHARD_CLIENT_DEFINITION,
  "Shard",
);
