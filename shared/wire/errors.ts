/**
 * One error vocabulary: errors that carry a gRPC status code, thrown
 * anywhere and turned into a gRPC status in exactly one place
 * ({@linkcode toServiceError}).
 *
 * @module
 */
import { logger } from "../ops/log.ts";

const log = logger("errors");

/**
 * The gRPC status codes Ganache answers with (values from the gRPC spec).
 * Kept here rather than imported from grpc-js so that shard workers, which
 * throw these errors too, need not load grpc-js.
 */
export const Status = {
  OK: 0,
  NOT_FOUND: 5,
  INVALID_ARGUMENT: 3,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** A gRPC status: its code and message. */
export interface StatusObject {
  /** The gRPC status code. */
  code: number;
  /** The message sent to the caller. */
  details: string;
}

/** An error with the gRPC status code that a caller should receive. */
export class GanacheError extends Error {
  /** The gRPC status code. */
  readonly code: number;

  /**
   * @param code The gRPC status code.
   * @param message What was wrong, and the limit where there is one.
   */
  constructor(code: number, message: string) {
    super(message);
    this.name = "GanacheError";
    this.code = code;
  }
}

/** The request is malformed or breaks a limit (INVALID_ARGUMENT). */
export class InvalidArgumentError extends GanacheError {
  /** @param message What was wrong and what the limit is. */
  constructor(message: string) {
    super(Status.INVALID_ARGUMENT, message);
    this.name = "InvalidArgumentError";
  }
}

/** The key is not in the cache (NOT_FOUND). */
export class NotFoundError extends GanacheError {
  /** @param message Which key was missing. */
  constructor(message: string) {
    super(Status.NOT_FOUND, message);
    this.name = "NotFoundError";
  }
}

/** The value cannot fit, however much is evicted (RESOURCE_EXHAUSTED). */
export class ResourceExhaustedError extends GanacheError {
  /** @param message What did not fit and the limit. */
  constructor(message: string) {
    super(Status.RESOURCE_EXHAUSTED, message);
    this.name = "ResourceExhaustedError";
  }
}

/** The caller's certificate may not do this (PERMISSION_DENIED). */
export class PermissionDeniedError extends GanacheError {
  /** @param message Who was refused what. */
  constructor(message: string) {
    super(Status.PERMISSION_DENIED, message);
    this.name = "PermissionDeniedError";
  }
}

/** A shard cannot be reached right now; retrying may work (UNAVAILABLE). */
export class UnavailableError extends GanacheError {
  /** @param message Which shard and why. */
  constructor(message: string) {
    super(Status.UNAVAILABLE, message);
    this.name = "UnavailableError";
  }
}

/** A conditional write found the key present (ALREADY_EXISTS). */
export class AlreadyExistsError extends GanacheError {
  /** @param message What was there. */
  constructor(message: string) {
    super(Status.ALREADY_EXISTS, message);
  }
}

/** The key holds something the operation cannot work on (FAILED_PRECONDITION). */
export class FailedPreconditionError extends GanacheError {
  /** @param message What the key holds and what was expected. */
  constructor(message: string) {
    super(Status.FAILED_PRECONDITION, message);
  }
}

/** A compare-and-set found another version (ABORTED). */
export class AbortedError extends GanacheError {
  /** @param message The versions expected and held. */
  constructor(message: string) {
    super(Status.ABORTED, message);
  }
}

/** A result past its type's range, e.g. an int64 overflow (OUT_OF_RANGE). */
export class OutOfRangeError extends GanacheError {
  /** @param message The result and the range. */
  constructor(message: string) {
    super(Status.OUT_OF_RANGE, message);
  }
}

/** An operation this kind of server does not offer (UNIMPLEMENTED). */
export class UnimplementedError extends GanacheError {
  /** @param message What is not offered, and where it is. */
  constructor(message: string) {
    super(Status.UNIMPLEMENTED, message);
  }
}

/**
 * Turns anything thrown by a handler into a gRPC status. Unknown errors
 * become INTERNAL and are logged, since they are bugs.
 *
 * @param error What was thrown.
 * @returns The status to send.
 */
export function toServiceError(error: unknown): StatusObject {
  if (error instanceof GanacheError) {
    return { code: error.code, details: error.message };
  }
  log.error(`internal error: ${error instanceof Error ? error.stack : error}`);
  return { code: Status.INTERNAL, details: "internal error" };
}
