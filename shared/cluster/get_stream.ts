/**
 * {@linkcode GetStream}: a frontend's Gets to one replica as messages on one
 * long-lived `GetStream` call, instead of one unary `Get` call per batch.
 *
 * A unary call costs the shard process about as much CPU as a hundred keys
 * (an HTTP/2 stream, headers, trailers, a deadline timer, the caller's
 * certificate read again); a message on an open stream costs a fraction
 * of that, on both sides. The replica answers batches in order, so replies
 * are matched to batches first in, first out.
 *
 * A batch the replica refuses ends the stream with that status; every
 * batch still waiting fails with it, and the next batch opens a new stream.
 * A batch unanswered after its deadline fails with DEADLINE_EXCEEDED and
 * the stream is cancelled, as a unary call's deadline would.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type { EntriesResponse, KeysRequest } from "../wire/messages.ts";

/** A batch sent and not yet answered. */
interface Waiting {
  resolve: (response: EntriesResponse) => void;
  reject: (error: Partial<grpc.ServiceError>) => void;
  timer: ReturnType<typeof setTimeout>;
}

type Duplex = grpc.ClientDuplexStream<KeysRequest, EntriesResponse>;

/** How long a stream may carry no batch before it is closed, in ms. */
const IDLE_MS = 1000;

/**
 * The `GetStream` of one replica's client, opened on the first batch and
 * again after it ends.
 *
 * @example
 * ```ts ignore
 * const reads = new GetStream(client);
 * const { entries } = await reads.get(["3:abckey"], 1000);
 * reads.close();
 * ```
 */
export class GetStream {
  readonly #client: grpc.Client;
  #call: Duplex | undefined;
  #waiting: Waiting[] = [];
  #lastSent = 0;

  /** @param client A client of the `ganache.shard.Shard` service (`shard_codec.ts`). */
  constructor(client: grpc.Client) {
    this.#client = client;
  }

  /**
   * Sends one batch of keys; resolves with the replica's entries, in key
   * order.
   *
   * @param timeoutMs How long to wait for the answer.
   * @returns Rejects with a `ServiceError`-like `{ code, details }`.
   */
  get(keys: string[], timeoutMs: number): Promise<EntriesResponse> {
    const call = this.#call ?? this.#open();
    this.#lastSent = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#expire(call), timeoutMs);
      this.#waiting.push({ resolve, reject, timer });
      call.write({ keys });
    });
  }

  /** Closes the stream if it carried no batch for a while (see `IDLE_MS`). */
  closeIfIdle(): void {
    if (
      this.#call && this.#waiting.length === 0 &&
      performance.now() - this.#lastSent > IDLE_MS
    ) {
      const call = this.#call;
      this.#call = undefined;
      call.end();
    }
  }

  /** Cancels the stream; batches still waiting fail with CANCELLED. */
  close(): void {
    const call = this.#call;
    if (!call) return;
    this.#fail(call, {
      code: grpc.status.CANCELLED,
      details: "the replica's connection was closed",
    });
    call.cancel();
  }

  #open(): Duplex {
    const method = (this.#client as unknown as Record<string, unknown>)
      .GetStream as (metadata: grpc.Metadata) => Duplex;
    const call = method.call(this.#client, new grpc.Metadata());
    this.#call = call;
    call.on("data", (response: EntriesResponse) => {
      if (this.#call !== call) return; // a late answer on a failed stream
      const waiting = this.#waiting.shift();
      if (!waiting) return;
      clearTimeout(waiting.timer);
      waiting.resolve(response);
    });
    call.on("error", (error: grpc.ServiceError) => this.#fail(call, error));
    call.on("end", () =>
      this.#fail(call, {
        code: grpc.status.UNAVAILABLE,
        details: "the replica ended the stream",
      }));
    return call;
  }

  /** The stream is over: every batch still waiting on it fails with `error`. */
  #fail(call: Duplex, error: Partial<grpc.ServiceError>): void {
    if (this.#call !== call) return;
    this.#call = undefined;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  #expire(call: Duplex): void {
    this.#fail(call, {
      code: grpc.status.DEADLINE_EXCEEDED,
      details: "Deadline exceeded",
    });
    call.cancel();
  }
}
