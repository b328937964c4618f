/**
 * The `ganache.shard.Shard` definitions with `Get`, the hot path, encoded
 * and decoded by protobufjs directly: proto-loader's `fromObject` and
 * `toObject` would copy every entry once more on each side.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import type { EntriesResponse, ShardEntry } from "../wire/messages.ts";
import {
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

/** The client definition (frontends, peers). */
export const SHARD_CLIENT_DEFINITION: grpc.ServiceDefinition = {
  ...SHARD_SERVICE,
  Get: {
    ...SHARD_SERVICE.Get!,
    requestSerialize: (request: { keys: string[] }) =>
      Keys.encode(request).finish() as Buffer,
    responseDeserialize: decodeEntries,
  },
};

/** The server definition (shard processes). */
export const SHARD_SERVER_DEFINITION: grpc.ServiceDefinition = {
  ...SHARD_SERVER_SERVICE,
  Get: {
    ...SHARD_SERVER_SERVICE.Get!,
    responseSerialize: (response: EntriesResponse) =>
      Entries.encode(response).finish() as Buffer,
  },
};

/** The client class of the `ganache.shard.Shard` service, with that codec. */
export const ShardClient = grpc.makeGenericClientConstructor(
  SHARD_CLIENT_DEFINITION,
  "Shard",
);
