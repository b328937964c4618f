/**
 * How a frontend tells a failed replica from a failed request: only
 * transport failures and deadlines take a replica out of rotation; any
 * other status the request caused goes back to the client.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { GanacheError } from "../wire/errors.ts";

/**
 * Status codes that mean the replica (or the way to it), not the request,
 * failed: only these take a replica out of rotation. (CANCELLED: we never
 * cancel a call; a replica that drains on shutdown does.)
 */
const TRANSPORT_FAILURES = new Set<number>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.CANCELLED,
]);

/**
 * What grpc-js says when the stream itself broke (a write to a closed
 * socket, a reset stream): these arrive as INTERNAL, but no replica sent
 * them, and a shard never resets a stream on purpose.
 */
const BROKEN_STREAM =
  /^Received RST_STREAM|internal client error|EPIPE|ECONNRESET|Connection dropped/;

/** Whether a call failed in transport or by its deadline. */
export function isTransportFailure(error: unknown): boolean {
  const { code, details } = error as Partial<grpc.ServiceError>;
  if (code === undefined) return false;
  return TRANSPORT_FAILURES.has(code) ||
    (code === grpc.status.INTERNAL && BROKEN_STREAM.test(details ?? ""));
}

/** A replica's error status as the error to give the client. */
export function toGanacheError(error: unknown): GanacheError {
  const { code, details } = error as Partial<grpc.ServiceError>;
  return new GanacheError(
    code ?? grpc.status.UNKNOWN,
    details ?? String(error),
  );
}
