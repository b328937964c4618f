/**
 * The standard gRPC health service (`grpc.health.v1.Health`), with Check
 * and Watch, driven by the server's readiness.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type {
  HealthCheckRequest,
  HealthCheckResponse,
  ServingStatus,
} from "../wire/messages.ts";

type Watcher = grpc.ServerWritableStream<
  HealthCheckRequest,
  HealthCheckResponse
>;

/** Options for {@linkcode HealthService}. */
export interface HealthOptions {
  /**
   * The most Watch streams open at once; more get RESOURCE_EXHAUSTED.
   * @default 1000
   */
  maxWatchers?: number;
}

/** The longest service name a Watch may ask for, in UTF-16 units. */
export const MAX_SERVICE_NAME = 256;

/**
 * Serving statuses by service name; `""` is the whole server. Services not
 * registered answer NOT_FOUND to Check and SERVICE_UNKNOWN to Watch, as
 * the gRPC health protocol says.
 *
 * Nothing here grows with what clients send: watchers are kept by
 * registered service only (a watcher of an unknown service is kept open,
 * as the protocol asks, but in one set, since the registered services never
 * change), a service's set is dropped with its last watcher, and the number
 * of watchers is bounded.
 */
export class HealthService {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watchers = new Map<string, Set<Watcher>>();
  readonly #unknownWatchers = new Set<Watcher>();
  readonly #maxWatchers: number;
  #watching = 0;

  /**
   * @param services Service names to register, all NOT_SERVING at first.
   * @param options Limits.
   */
  constructor(services: string[], options: HealthOptions = {}) {
    for (const name of ["", ...services]) {
      this.#statuses.set(name, "NOT_SERVING");
    }
    this.#maxWatchers = options.maxWatchers ?? 1000;
  }

  /** Sets the status of every registered service and tells watchers. */
  setAll(status: ServingStatus): void {
    for (const name of this.#statuses.keys()) this.set(name, status);
  }

  /** Sets the status of one registered service and tells its watchers. */
  set(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const watcher of this.#watchers.get(service) ?? []) {
      watcher.write({ status });
    }
  }

  /** The status of one service, or `undefined` if it is not registered. */
  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** Open Watch streams, and the services they watch (for tests). */
  get watching(): { watchers: number; services: number } {
    return { watchers: this.#watching, services: this.#watchers.size };
  }

  /** The handlers to add to a grpc-js server. */
  implementation(): grpc.UntypedServiceImplementation {
    return {
      Check: (
        call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
        callback: grpc.sendUnaryData<HealthCheckResponse>,
      ) => {
        const service = call.request.service;
        const status = this.#statuses.get(service);
        if (status === undefined) {
          callback({
            code: grpc.status.NOT_FOUND,
            details: `unknown service "${service.slice(0, MAX_SERVICE_NAME)}"`,
          });
        } else callback(null, { status });
      },
      Watch: (call: Watcher) => this.#watch(call),
    };
  }

  #watch(call: Watcher): void {
    const service = call.request.service;
    // grpc-js sends an "error" event's status and ends the stream (destroy
    // would end it without a status).
    const fail = (code: grpc.status, details: string) =>
      call.emit("error", Object.assign(new Error(details), { code, details }));
    if (service.length > MAX_SERVICE_NAME) {
      fail(
        grpc.status.INVALID_ARGUMENT,
        `service name is ${service.length} characters: the limit is ${MAX_SERVICE_NAME}`,
      );
      return;
    }
    if (this.#watching >= this.#maxWatchers) {
      fail(
        grpc.status.RESOURCE_EXHAUSTED,
        `${this.#watching} Watch streams are open: the limit is ${this.#maxWatchers}`,
      );
      return;
    }
    const status = this.#statuses.get(service);
    let watchers: Set<Watcher>;
    if (status === undefined) {
      watchers = this.#unknownWatchers;
    } else {
      watchers = this.#watchers.get(service) ?? new Set();
      this.#watchers.set(service, watchers);
    }
    watchers.add(call);
    this.#watching++;
    let gone = false;
    const leave = () => {
      if (gone) return;
      gone = true;
      this.#watching--;
      watchers.delete(call);
      if (watchers.size === 0 && watchers !== this.#unknownWatchers) {
        this.#watchers.delete(service);
      }
    };
    call.on("cancelled", leave);
    call.on("close", leave);
    call.on("error", leave);
    call.on("finish", leave);
    call.write({ status: status ?? "SERVICE_UNKNOWN" });
  }

  /** Ends every Watch stream (at shutdown). */
  close(): void {
    for (
      const watchers of [...this.#watchers.values(), this.#unknownWatchers]
    ) {
      for (const watcher of [...watchers]) watcher.end();
    }
  }
}
