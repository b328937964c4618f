/**
 * Starting and stopping a TLS gRPC server.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";

/** Options for {@linkcode startGrpcServer}. */
export interface GrpcServerOptions {
  /** The interface to listen on. */
  host: string;
  /** The port; 0 picks a free one. */
  port: number;
  /** The server's TLS credentials. */
  credentials: grpc.ServerCredentials;
  /** Services and their handlers. */
  services: [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
  /** The largest request accepted, in bytes; larger ones get RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
}

/** A listening server. */
export interface GrpcServer {
  /** The grpc-js server. */
  server: grpc.Server;
  /** The port it listens on (the one picked, when 0 was asked). */
  port: number;
  /**
   * Stops accepting calls, lets calls in flight finish for up to `graceMs`,
   * then cancels what is left.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** Starts a gRPC server and resolves once it listens. */
export async function startGrpcServer(
  options: GrpcServerOptions,
): Promise<GrpcServer> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": -1,
  });
  for (const [definition, implementation] of options.services) {
    server.addService(definition, implementation);
  }
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${host}:${options.port}`,
      options.credentials,
      (error, port) => error ? reject(error) : resolve(port),
    );
  });
  return {
    server,
    port,
    shutdown: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
