/**
 * Exact 64-bit integers for the methods that need them. The services'
 * loader options decode `int64`/`uint64` as JavaScript numbers (exact up
 * to 2^53, enough for TTLs and versions); a counter must be exact over the
 * whole int64 range, so these methods decode their messages with 64-bit
 * fields as decimal strings instead (encoding takes strings already).
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { DESCRIPTOR } from "./generated/descriptor.ts";

const ROOT = protobuf.Root.fromJSON(
  DESCRIPTOR as unknown as protobuf.INamespace,
);
const EXACT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The `ganache.cfe.CFE` methods with int64 fields: request and response types. */
export const EXACT_CFE_METHODS: Record<string, [string, string]> = {
  Increment: ["ganache.cfe.IncrementRequest", "ganache.cfe.IncrementResponse"],
};

/**
 * A copy of `service` whose `methods` decode 64-bit fields as decimal
 * strings, on the server (requests) and on the client (responses).
 *
 * @param service A service definition from the package definition.
 * @param methods Method names and their request and response types.
 */
export function exactLongs(
  service: grpc.ServiceDefinition,
  methods: Record<string, [string, string]>,
): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {
    ...service,
  };
  for (const [name, [requestName, responseName]] of Object.entries(methods)) {
    const method = service[name];
    if (method === undefined) continue;
    const request = ROOT.lookupType(requestName);
    const response = ROOT.lookupType(responseName);
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Uint8Array) =>
        request.toObject(request.decode(bytes), EXACT),
      responseDeserialize: (bytes: Uint8Array) =>
        response.toObject(response.decode(bytes), EXACT),
    } as grpc.MethodDefinition<unknown, unknown>;
  }
  return out as grpc.ServiceDefinition;
}
