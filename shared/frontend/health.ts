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

/**
 * Serving statuses by service name; `""` is the whole server. Services not
 * registered answer NOT_FOUND to Check and SERVICE_UNKNOWN to Watch.
 */
export class HealthService {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watchers = new Map<string, Set<Watcher>>();

  /** @param services Service names to register, all NOT_SERVING at first. */
  constructor(services: string[]) {
    for (const name of ["", ...services]) {
      this.#statuses.set(name, "NOT_SERVING");
    }
  }

  /** Sets the status of every registered service and tells watchers. */
  setAll(status: ServingStatus): void {
    for (const name of this.#statuses.keys()) this.set(name, status);
  }

  /** Sets the status of one service and tells its watchers. */
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

  /** The handlers to add to a grpc-js server. */
  implementation(): grpc.UntypedServiceImplementation {
    return {
      Check: (
        call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
        callback: grpc.sendUnaryData<HealthCheckResponse>,
      ) => {
        const status = this.#statuses.get(call.request.service);
        if (status === undefined) {
          callback({
            code: grpc.status.NOT_FOUND,
            details: `unknown service "${call.request.service}"`,
          });
        } else callback(null, { status });
      },
      Watch: (call: Watcher) => {
        const service = call.request.service;
        call.write({
          status: this.#statuses.get(service) ?? "SERVICE_UNKNOWN",
        });
        let watchers = this.#watchers.get(service);
        if (!watchers) this.#watchers.set(service, watchers = new Set());
        watchers.add(call);
        call.on("cancelled", () => watchers.delete(call));
      },
    };
  }

  /** Ends every Watch stream (at shutdown). */
  close(): void {
    for (const watchers of this.#watchers.values()) {
      for (const watcher of watchers) watcher.end();
      watchers.clear();
    }
  }
}
