/**
 * Calling a method of a grpc-js generic client by name: the one place that
 * reaches into the client for a method its service definition added (a
 * client made by `makeGenericClientConstructor` has one per RPC, untyped).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";

/** Per-call settings of {@linkcode unaryCall}. */
export interface CallSettings {
  /** Metadata to send. @default none */
  metadata?: grpc.Metadata;
  /** When the call gives up (DEADLINE_EXCEEDED). @default none */
  deadline?: grpc.Deadline;
}

type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

type ServerStreaming = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
) => grpc.ClientReadableStream<unknown>;

/** The method `name` of `client`, bound to it. */
function methodOf<F extends (...args: never[]) => unknown>(
  client: grpc.Client,
  name: string,
): F {
  const fn = (client as unknown as Record<string, unknown>)[name];
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot call ${name}: the client has no such method`);
  }
  return fn.bind(client) as F;
}

/**
 * Calls the unary method `name` of a generic client.
 *
 * @returns The response; rejects with the grpc-js `ServiceError`.
 * @throws {TypeError} if the client's service has no method `name`.
 * @example
 * ```ts ignore
 * const stats = await unaryCall<StatsResponse>(client, "Stats", {}, {
 *   deadline: Date.now() + 1000,
 * });
 * ```
 */
export function unaryCall<Res>(
  client: grpc.Client,
  name: string,
  request: unknown,
  settings: CallSettings = {},
): Promise<Res> {
  const call = methodOf<Unary>(client, name);
  return new Promise<Res>((resolve, reject) => {
    call(
      request,
      settings.metadata ?? new grpc.Metadata(),
      settings.deadline === undefined ? {} : { deadline: settings.deadline },
      (error, response) => error ? reject(error) : resolve(response as Res),
    );
  });
}

/**
 * Opens the server-streaming method `name` of a generic client.
 *
 * @throws {TypeError} if the client's service has no method `name`.
 */
export function streamCall<Res>(
  client: grpc.Client,
  name: string,
  request: unknown,
  settings: CallSettings = {},
): grpc.ClientReadableStream<Res> {
  const call = methodOf<ServerStreaming>(client, name);
  return call(
    request,
    settings.metadata ?? new grpc.Metadata(),
    settings.deadline === undefined ? {} : { deadline: settings.deadline },
  ) as grpc.ClientReadableStream<Res>;
}
