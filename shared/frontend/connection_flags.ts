/**
 * The connection limits of every server role (`start`, `cfe`, `shard`):
 * how many connections, how long a TLS handshake and an idle connection
 * may last, and how many calls one connection may have in flight.
 *
 * @module
 */
import type { Flags, FlagValues } from "../flags.ts";

/** What a server does with its connections. Every field has a safe default. */
export interface ConnectionLimits {
  /**
   * The most connections open at once; more are closed as soon as they
   * are accepted (and counted in `ganache_connections_refused_total`).
   * @default 1024
   */
  maxConnections: number;
  /**
   * How long a connection may take to finish its TLS handshake before it
   * is closed, in ms.
   * @default 10000
   */
  tlsHandshakeTimeoutMs: number;
  /**
   * How long a connection may go without a call in flight before the
   * server closes it with a GOAWAY, in ms (gRPC `max_connection_idle`;
   * clients reconnect on their next call). 0: never.
   * @default 300000
   */
  idleTimeoutMs: number;
  /**
   * How long a connection may live before the server sends GOAWAY, in ms
   * (gRPC `max_connection_age`); calls in flight then have
   * `shutdownGraceMs` to finish. 0: forever.
   * @default 0
   */
  maxConnectionAgeMs: number;
  /**
   * The most calls in flight on one connection, advertised in HTTP/2
   * SETTINGS; a client queues the rest.
   * @default 100
   */
  maxConcurrentStreams: number;
}

/** The defaults of {@linkcode ConnectionLimits}. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 1024,
  tlsHandshakeTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  maxConnectionAgeMs: 0,
  maxConcurrentStreams: 100,
};

/** The connection flags, in the order help lists them. */
export const CONNECTION_FLAGS: Flags = {
  "max-connections": {
    type: "string",
    default: String(DEFAULT_CONNECTION_LIMITS.maxConnections),
    value: "N",
    help: "most connections open at once; more are closed when accepted",
  },
  "tls-handshake-timeout-ms": {
    type: "string",
    default: String(DEFAULT_CONNECTION_LIMITS.tlsHandshakeTimeoutMs),
    value: "MS",
    help: "close a connection that has not finished its TLS handshake by then",
  },
  "idle-timeout-ms": {
    type: "string",
    default: String(DEFAULT_CONNECTION_LIMITS.idleTimeoutMs),
    value: "MS",
    help:
      "GOAWAY to a connection with no call in flight for this long (0: never)",
  },
  "max-connection-age-ms": {
    type: "string",
    default: String(DEFAULT_CONNECTION_LIMITS.maxConnectionAgeMs),
    value: "MS",
    help: "GOAWAY to a connection this old (0: never)",
  },
  "max-concurrent-streams": {
    type: "string",
    default: String(DEFAULT_CONNECTION_LIMITS.maxConcurrentStreams),
    value: "N",
    help: "most calls in flight on one connection (HTTP/2 SETTINGS)",
  },
};

/**
 * The connection limits from parsed {@linkcode CONNECTION_FLAGS}.
 *
 * @throws {UsageError} when a value is out of range.
 */
export function connectionLimits(values: FlagValues): ConnectionLimits {
  return {
    maxConnections: values.integer("max-connections", 1, 1_000_000),
    tlsHandshakeTimeoutMs: values.integer(
      "tls-handshake-timeout-ms",
      1,
      3_600_000,
    ),
    idleTimeoutMs: values.integer("idle-timeout-ms", 0, 2_147_483_647),
    maxConnectionAgeMs: values.integer(
      "max-connection-age-ms",
      0,
      2_147_483_647,
    ),
    maxConcurrentStreams: values.integer(
      "max-concurrent-streams",
      1,
      1_000_000,
    ),
  };
}
