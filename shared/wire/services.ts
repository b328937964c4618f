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
import { requestTypeOf, utf8Check } from "./utf8.ts";

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
            return invalid === undefined
              ? request
              : new MalformedRequest(`${invalid} is not valid UTF-8`);
          } catch (error) {
            return new MalformedRequest((error as Error).message);
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
