/**
 * The shard side of `GetStream` (see `get_stream.ts`): each batch of keys
 * answered on the open call, in order, as `Get` answers it. The caller is
 * admitted once, when the stream opens.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type { ServerSurfaceCall } from "../frontend/acl.ts";
import { logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import { Status, toServiceError } from "../wire/errors.ts";
import type { EntriesResponse, KeysRequest } from "../wire/messages.ts";
import { MalformedRequest } from "../wire/services.ts";

const log = logger("shard_service");

/** What {@linkcode serveGetStream} needs from the shard service. */
export interface GetStreamHandlers {
  /** Throws to refuse the caller. */
  admit: (call: ServerSurfaceCall) => void;
  /** Answers one batch, as `Get` does; throws to refuse it. */
  read: (keys: string[]) => EntriesResponse;
  /** Counts each batch as a `Get` call. */
  metrics?: Metrics;
}

/**
 * Serves one `GetStream` call. A batch that is refused (or malformed) ends
 * the call with its status; the frontend then fails every batch it still
 * waits for on this call and opens a new one for the next.
 */
export function serveGetStream(
  call: grpc.ServerDuplexStream<KeysRequest, EntriesResponse>,
  handlers: GetStreamHandlers,
): void {
  let ended = false;
  /** Ends the call with the status of `error`. */
  const fail = (error: unknown) => {
    ended = true;
    const { code, details } = toServiceError(error);
    call.emit("error", Object.assign(new Error(details), { code, details }));
  };
  try {
    handlers.admit(call);
  } catch (error) {
    fail(error);
    return;
  }
  call.on("data", (request: KeysRequest | MalformedRequest) => {
    if (ended) return;
    const started = performance.now();
    let code: number = Status.OK;
    try {
      if (request instanceof MalformedRequest) {
        log.debug(`GetStream: malformed request: ${request.detail}`);
        throw request.toError();
      }
      call.write(handlers.read(request.keys));
    } catch (error) {
      code = toServiceError(error).code;
      fail(error);
    }
    handlers.metrics?.observe(
      "ganache.shard.Shard",
      "Get",
      code,
      (performance.now() - started) / 1000,
    );
  });
  call.on("end", () => {
    if (!ended) call.end();
  });
}
