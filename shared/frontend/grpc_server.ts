/**
 * Starting and stopping a TLS gRPC server, behind a
 * {@linkcode ConnectionListener} that enforces the connection limits.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import type { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { Metrics } from "../ops/metrics.ts";
import { PACKAGE_DEFINITION } from "../wire/services.ts";
import {
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
} from "./connection_flags.ts";
import { ConnectionMetrics } from "./connection_metrics.ts";
import { ConnectionListener } from "./listener.ts";

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
  /** Connection limits. @default {@linkcode DEFAULT_CONNECTION_LIMITS} */
  limits?: Partial<ConnectionLimits>;
  /** How long calls in flight get after a GOAWAY for age, in ms. @default 5000 */
  graceMs?: number;
  /** Where connection metrics are counted. */
  metrics?: Metrics;
  /** Called for each TLS handshake that fails. */
  onTlsFailure?: (error: Error) => void;
  /**
   * Accept on a port that other threads share (`reusePort`, Linux), so
   * several frontend threads serve one address.
   */
  sharedPort?: boolean;
  /**
   * Told the size of every message the server decodes or encodes (the GC
   * pacer counts them, see `gc_pacer.ts`).
   */
  onMessageBytes?: (bytes: number) => void;
}

/**
 * `definition` with every request decoder and response encoder also
 * telling `onBytes` the size of the message.
 */
function countingBytes(
  definition: grpc.ServiceDefinition,
  onBytes: (bytes: number) => void,
): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [name, {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        onBytes(bytes.byteLength);
        return method.requestDeserialize(bytes);
      },
      responseSerialize: (value: unknown) => {
        const bytes = method.responseSerialize(value);
        onBytes(bytes.byteLength);
        return bytes;
      },
    }]),
  );
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
  /** Connections open now. */
  readonly connections: number;
  /**
   * Stops accepting calls, lets calls in flight finish for up to `graceMs`,
   * then cancels what is left.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** The grpc-js server options that carry the connection limits. */
function serverOptions(
  options: GrpcServerOptions,
  limits: ConnectionLimits,
): grpc.ServerOptions {
  const serverOptions: grpc.ServerOptions = {
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": -1,
    "grpc.max_concurrent_streams": limits.maxConcurrentStreams,
  };
  if (limits.idleTimeoutMs > 0) {
    serverOptions["grpc.max_connection_idle_ms"] = limits.idleTimeoutMs;
  }
  if (limits.maxConnectionAgeMs > 0) {
    serverOptions["grpc.max_connection_age_ms"] = limits.maxConnectionAgeMs;
    serverOptions["grpc.max_connection_age_grace_ms"] = options.graceMs ??
      5000;
  }
  return serverOptions;
}

/** Starts a gRPC server and resolves once it listens. */
export async function startGrpcServer(
  options: GrpcServerOptions,
): Promise<GrpcServer> {
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
  const server = new grpc.Server(serverOptions(options, limits));
  const { onMessageBytes } = options;
  for (const [definition, implementation] of options.services) {
    server.addService(
      onMessageBytes ? countingBytes(definition, onMessageBytes) : definition,
      implementation,
    );
  }
  // Server reflection, so that generic tools (grpcurl) can list and call.
  new ReflectionService(PACKAGE_DEFINITION, {
    services: serviceNames(options.services),
  }).addToServer(server);
  // Our own listener accepts and hands each connection to grpc-js, which
  // does TLS and HTTP/2 on it.
  const injector = server.createConnectionInjector(options.credentials);
  const listener = await ConnectionListener.listen({
    host: options.host,
    port: options.port,
    sharedPort: options.sharedPort,
    maxConnections: limits.maxConnections,
    tlsHandshakeTimeoutMs: limits.tlsHandshakeTimeoutMs,
    metrics: options.metrics && new ConnectionMetrics(options.metrics),
    onConnection: (socket) => injector.injectConnection(socket),
  });
  for (const http2Server of http2ServersOf(server)) {
    http2Server.on("secureConnection", (tlsSocket: TlsSocketOnTcp) => {
      if (tlsSocket._parent) listener.handshakeDone(tlsSocket._parent);
    });
    if (options.onTlsFailure) {
      http2Server.on("tlsClientError", options.onTlsFailure);
    }
  }
  return {
    server,
    port: listener.port,
    get connections() {
      return listener.open;
    },
    shutdown: async (graceMs) => {
      listener.close();
      // GOAWAY to every connection; each closes once its calls are done.
      // grpc-js's callback does not wait for that under Deno, so the
      // connections themselves are waited for.
      server.tryShutdown(() => {});
      listener.closeHandshaking();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([listener.drained(), late]);
      clearTimeout(timer);
      server.forceShutdown();
      listener.closeAll();
    },
  };
}

/** A TLS socket, and the TCP socket under it (a Node internal). */
interface TlsSocketOnTcp {
  _parent?: Socket;
}

/** An HTTP/2 server as far as this module listens to it. */
interface Http2Events {
  on(event: string, listener: (arg: never) => void): void;
}

/**
 * The HTTP/2 servers grpc-js made (here, the injector's). grpc-js has no
 * public hook for TLS events, so this reaches its private map; if a grpc-js
 * upgrade renames it, handshakes go uncounted and the handshake timeout
 * closes connections that finished their handshake too (the tests catch it).
 */
function http2ServersOf(server: grpc.Server): Http2Events[] {
  const servers =
    (server as unknown as { http2Servers?: Map<Http2Events, unknown> })
      .http2Servers;
  return [...servers?.keys() ?? []];
}
