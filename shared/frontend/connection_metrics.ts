/**
 * The metrics of a server's connections, registered in its
 * {@linkcode Metrics} registry (summed across frontend threads).
 *
 * @module
 */
import client from "prom-client";
import type { Metrics } from "../ops/metrics.ts";

/** Connection counters and gauges of one server. */
export class ConnectionMetrics {
  /** Connections open now (accepted and not yet closed). */
  readonly open: client.Gauge;
  /** Connections closed at accept because `--max-connections` were open. */
  readonly refused: client.Counter;
  /** Times the server could not accept (out of file descriptors). */
  readonly acceptErrors: client.Counter;
  /** Connections closed because their TLS handshake took too long. */
  readonly handshakeTimeouts: client.Counter;

  /** @param metrics The server's metrics; these join its registry. */
  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.open = new client.Gauge({
      name: "ganache_connections_open",
      help: "Client connections open",
      registers,
    });
    this.refused = new client.Counter({
      name: "ganache_connections_refused_total",
      help:
        "Connections closed when accepted because --max-connections were open",
      registers,
    });
    this.acceptErrors = new client.Counter({
      name: "ganache_accept_errors_total",
      help:
        "Times accepting failed or stalled (out of file descriptors); accepting resumes once descriptors are free",
      registers,
    });
    this.handshakeTimeouts = new client.Counter({
      name: "ganache_tls_handshake_timeouts_total",
      help:
        "Connections closed because their TLS handshake did not finish within --tls-handshake-timeout-ms",
      registers,
    });
  }
}
