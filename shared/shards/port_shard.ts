/**
 * {@linkcode PortShard}: a {@linkcode Shard} that another frontend thread
 * reaches over a `MessagePort` to a shard worker owned by the main thread.
 *
 * @module
 */
import { BatchedShard, Exchange } from "./batched_shard.ts";
import { UnavailableError } from "../wire/errors.ts";
import type { FromWorker, OpResult, ShardOp } from "./worker_protocol.ts";

/** A shard worker reached over a port; the main thread re-wires it after a restart. */
export class PortShard extends BatchedShard {
  readonly #index: number;
  #exchange = new Exchange();
  #port: MessagePort;
  #restarts: number;
  /** Set while the worker is down: calls fail at once until {@linkcode replace}. */
  #down = false;

  /**
   * @param index The shard's index, for messages.
   * @param port This thread's end of the channel to the shard worker.
   * @param restarts The worker's restart count so far.
   */
  constructor(index: number, port: MessagePort, restarts: number) {
    super();
    this.#index = index;
    this.#restarts = restarts;
    this.#down = false;
    this.#port = this.#listen(port);
  }

  /** How many times the shard's worker was replaced after a crash. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Switches to the port of a replacement worker; batches in flight to the
   * old one fail with UNAVAILABLE.
   */
  replace(port: MessagePort, restarts: number): void {
    this.#port.close();
    this.#exchange.failAll(
      new UnavailableError(`shard ${this.#index} crashed and is restarting`),
    );
    this.#exchange = new Exchange();
    this.#restarts = restarts;
    this.#down = false;
    this.#port = this.#listen(port);
  }

  /**
   * The worker died: calls in flight and calls until the next
   * {@linkcode PortShard.replace} fail with UNAVAILABLE at once, instead of
   * waiting on a port nobody answers.
   */
  down(): void {
    this.#down = true;
    this.#exchange.failAll(
      new UnavailableError(`shard ${this.#index} crashed and is restarting`),
    );
    this.#exchange = new Exchange();
    this.#port.onmessage = null;
  }

  /** Closes the port; calls in flight fail with UNAVAILABLE. */
  close(): Promise<void> {
    this.#port.close();
    this.#exchange.failAll(
      new UnavailableError(`shard ${this.#index} is closed`),
    );
    return Promise.resolve();
  }

  /** Posts one batch on the port. */
  protected send(ops: ShardOp[]): Promise<OpResult[]> {
    if (this.#down) {
      return Promise.reject(
        new UnavailableError(`shard ${this.#index} crashed and is restarting`),
      );
    }
    const port = this.#port;
    return this.#exchange.send(
      (message, transfer) => port.postMessage(message, transfer),
      ops,
    );
  }

  #listen(port: MessagePort): MessagePort {
    const exchange = this.#exchange;
    port.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.kind === "results") {
        exchange.receive(message.id, message.results);
      }
    };
    return port;
  }
}
