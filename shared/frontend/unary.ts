/**
 * The request wrapper of every unary method Ganache serves (the
 * `ganache.cfe.CFE` and `ganache.shard.Shard` services): the one place
 * where a caller is admitted, a malformed request is refused, the call is
 * traced, a thrown error becomes a gRPC status, and the call is counted.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import { inSpan, traceparentOf, TRACING } from "../ops/tracing.ts";
import { Status, type StatusObject, toServiceError } from "../wire/errors.ts";
import { MalformedRequest } from "../wire/services.ts";

const log = logger("unary");

/** What {@linkcode unaryHandler} wraps. */
export interface UnaryOptions<Req, Res> {
  /** The service, for spans and metrics: `ganache.cfe.CFE`. */
  service: string;
  /** The method, for spans and metrics: `Get`. */
  method: string;
  /** Where calls are counted. */
  metrics?: Metrics;
  /** Throws to refuse a caller, before the request is looked at. */
  admit?: (call: grpc.ServerUnaryCall<Req, Res>) => void;
  /** Answers a well-formed request of an admitted caller. */
  handle: (call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>;
}

/**
 * A grpc-js unary handler that admits the caller, refuses a
 * {@linkcode MalformedRequest} with INVALID_ARGUMENT (the decoder's words
 * go to the log), runs `handle` in a server span when tracing is on
 * (awaited: the span ends when the answer is known and records a
 * failure), and answers with the result or the error's status.
 */
export function unaryHandler<Req, Res>(
  options: UnaryOptions<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  const { service, method, metrics, admit, handle } = options;
  const name = `${service}/${method}`;
  const run = (call: grpc.ServerUnaryCall<Req, Res>) => async () => {
    admit?.(call);
    const request = call.request as unknown;
    if (request instanceof MalformedRequest) {
      log.debug(`${name}: malformed request: ${request.detail}`);
      throw request.toError();
    }
    return await handle(call);
  };
  return (call, callback) => {
    const started = performance.now();
    const answer = (error: StatusObject | null, response?: Res) => {
      metrics?.observe(
        service,
        method,
        error?.code ?? Status.OK,
        (performance.now() - started) / 1000,
      );
      if (error) callback(error);
      else callback(null, response);
    };
    const running = TRACING
      ? inSpan(name, "server", traceparentOf(call.metadata), run(call))
      : run(call)();
    running.then(
      (response) => answer(null, response),
      (error) => answer(toServiceError(error)),
    );
  };
}
