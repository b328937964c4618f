/**
 * Starting and stopping a TLS gRPC server.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import {
  type AddressInfo,
  createServer,
  type Server as NetServer,
} from "node:net";
import { PACKAGE_DEFINITION } from "../wire/services.ts";

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
  /** Called for each TLS handshake that fails. */
  onTlsFailure?: (error: Error) => void;
  /**
   * Accept on a port that other threads share (`reusePort`, Linux), so
   * several frontend threads serve one address.
   */
  sharedPort?: boolean;
}

/** The names of the services a server registers, for reflection. */
function serviceNames(
  services: [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][],
): string[] {
  return services.map(([definition]) => {
    const path = Object.values(definition)[0]?.path ?? "";
    return path.slice(1, path.lastIndexOf("/"));
  });
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
  // Server reflection, so that generic tools (grpcurl) can list and call.
  new ReflectionService(PACKAGE_DEFINITION, {
    services: serviceNames(options.services),
  }).addToServer(server);
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  let listener: NetServer | undefined;
  let port: number;
  if (options.sharedPort) {
    // Several threads accept on one port; each hands its connections to
    // its own grpc-js server.
    const injector = server.createConnectionInjector(options.credentials);
    const shared = createServer((socket) => injector.injectConnection(socket));
    listener = shared;
    port = await new Promise<number>((resolve, reject) => {
      shared.once("error", reject);
      shared.listen(
        { host: options.host, port: options.port, reusePort: true },
        () => resolve((shared.address() as AddressInfo).port),
      );
    });
  } else {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        `${host}:${options.port}`,
        options.credentials,
        (error, port) => error ? reject(error) : resolve(port),
      );
    });
  }
  if (options.onTlsFailure) watchHandshakes(server, options.onTlsFailure);
  return {
    server,
    port,
    shutdown: (graceMs) =>
      new Promise<void>((resolve) => {
        listener?.close();
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/**
 * Listens for failed TLS handshakes on the server's listening sockets.
 * grpc-js has no public hook for them, so this reaches its (private) map of
 * HTTP/2 servers; if a grpc-js upgrade renames it, handshakes simply go
 * uncounted.
 */
function watchHandshakes(
  server: grpc.Server,
  onFailure: (error: Error) => void,
): void {
  const servers =
    (server as unknown as { http2Servers?: Map<unknown, unknown> })
      .http2Servers;
  for (const http2Server of servers?.keys() ?? []) {
    (http2Server as { on?(event: string, f: (e: Error) => void): void }).on?.(
      "tlsClientError",
      onFailure,
    );
  }
}
