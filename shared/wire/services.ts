/**
 * The services of the wire contract: the gRPC definitions of
 * `ganache.cfe.CFE`, `ganache.shard.Shard` and `grpc.health.v1.Health`, and
 * a protobufjs root of every message, all built from the generated
 * descriptor. This folder, `shared/wire/`, is everything a peer must agree
 * on: the `.proto` files (`proto/`) and their descriptor (`generated/`),
 * these definitions, the message shapes (`messages.ts`), typed values in
 * `Any` (`values.ts`), the errors and their gRPC status codes
 * (`errors.ts`), the request limits (`limits.ts`), the UTF-8 check of
 * requests' strings (`utf8.ts`), cache keys and their hash
 * (`cache_key.ts`), and the `Shard` interface (`shard.ts`).
 *
 * @module
 */
import * as protoLoader from "@grpc/proto-loader";
import type * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { DESCRIPTOR } from "./generated/descriptor.ts";
import { EXACT_CFE_METHODS, exactLongs } from "./exact_longs.ts";
import { InvalidArgumentError } from "./errors.ts";
import { requestTypeOf, utf8Check } from "./utf8.ts";

// protobufjs reads a request that grpc-js hands it as a Buffer with its
// BufferReader, whose `string` cuts a field that claims more bytes than the
// message holds at the message's end instead of failing (its Uint8Array
// reader throws). A truncated request would decode as a shorter one, so the
// Buffer reader is made to fail the same way.
const readString = protobuf.BufferReader.prototype.string;
protobuf.BufferReader.prototype.string = function (
  this: protobuf.BufferReader,
): string {
  const start = this.pos;
  const length = this.uint32();
  if (this.pos + length > this.len) {
    throw new RangeError(
      `index out of range: ${this.pos} + ${length} > ${this.len}`,
    );
  }
  this.pos = start;
  return readString.call(this);
};

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

/**
 * The `ganache.cfe.CFE` service definition, for clients; `Increment`'s
 * int64 fields are decimal strings (see `exact_longs.ts`).
 */
export const CFE_SERVICE = exactLongs(
  PACKAGE_DEFINITION["ganache.cfe.CFE"] as grpc.ServiceDefinition,
  EXACT_CFE_METHODS,
);

/**
 * A request that could not be decoded. grpc-js answers INTERNAL when a
 * deserializer throws; the server definition hands this to the handler
 * instead, so that it can answer INVALID_ARGUMENT.
 *
 * The caller is told "malformed request", with a reason only when it is
 * ours to give (a field that is not UTF-8); the decoder's own words
 * (protobufjs internals: offsets, buffer lengths) are kept for the log.
 */
export class MalformedRequest {
  /** What the caller may be told, if anything beyond "malformed request". */
  readonly reason: string | undefined;
  /** What went wrong, for the server's log. */
  readonly detail: string;

  /**
   * @param detail What went wrong, for the log.
   * @param reason What the caller may be told.
   */
  constructor(detail: string, reason?: string) {
    this.detail = detail;
    this.reason = reason;
  }

  /** The INVALID_ARGUMENT error the caller gets. */
  toError(): InvalidArgumentError {
    return new InvalidArgumentError(
      this.reason === undefined
        ? "malformed request"
        : `malformed request: ${this.reason}`,
    );
  }
}

/**
 * A service definition whose request decoders return a
 * {@linkcode MalformedRequest} instead of throwing, and also for a `string`
 * field that is not valid UTF-8 (which protobufjs would silently decode to
 * U+FFFD).
 */
function tolerant(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(service).map(([name, method]) => {
      const check = utf8Check(requestTypeOf(method.path));
      return [name, {
        ...method,
        requestDeserialize: (bytes: Uint8Array) => {
          try {
            const request = method.requestDeserialize(bytes as never);
            const invalid = check(request, bytes);
            return invalid === undefined ? request : new MalformedRequest(
              `${invalid} is not valid UTF-8`,
              `${invalid} is not valid UTF-8`,
            );
          } catch (error) {
            return new MalformedRequest(
              `${requestTypeOf(method.path)}: ${(error as Error).message}`,
            );
          }
        },
      }];
    }),
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
