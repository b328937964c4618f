/**
 * {@linkcode ConnectionListener}: the TCP listener in front of a gRPC
 * server. It refuses connections beyond a limit, closes those whose TLS
 * handshake takes too long, and survives running out of file descriptors.
 *
 * Deno's `node:net` listener stops accepting for good when `accept` fails
 * with EMFILE, silently. So a guard opens (and closes) a descriptor every
 * second: when that fails, descriptors are exhausted (logged and counted);
 * when it works again, the listener is replaced, and accepting resumes. A
 * listener that is the only one on its port also connects to itself now
 * and then: a connection it never accepts means it stalled, and it is
 * replaced too.
 *
 * @module
 */
import {
  type AddressInfo,
  connect,
  createServer,
  type Server as NetServer,
  type Socket,
} from "node:net";
import { logger } from "../ops/log.ts";
import type { ConnectionMetrics } from "./connection_metrics.ts";

const log = logger("listener");

/** How often the guard checks for free descriptors, in ms. */
const GUARD_INTERVAL_MS = 1000;
/** How long a self-connection may wait to be accepted, in ms. */
const STALL_MS = 3000;

/** Addresses a self-connection comes from. */
const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** A connection of the listener to itself, checking that it accepts. */
interface SelfConnection {
  /** Its local port, once connected. */
  localPort?: number;
  /** Loopback connections accepted before that port was known. */
  held: Socket[];
  /** Whether the listener accepted it. */
  accepted: boolean;
  /** Ends it: its timer, its socket, its held connections. */
  finish?: () => void;
}

/** Options for {@linkcode ConnectionListener.listen}. */
export interface ListenerOptions {
  /** The interface. */
  host: string;
  /** The port; 0 picks one. */
  port: number;
  /** Share the port with other threads (`reusePort`, Linux). */
  sharedPort?: boolean;
  /** The most connections open at once. */
  maxConnections: number;
  /** How long the TLS handshake may take, in ms. */
  tlsHandshakeTimeoutMs: number;
  /** Counts connections. */
  metrics?: ConnectionMetrics;
  /** Takes each accepted connection. */
  onConnection(socket: Socket): void;
}

/** A listening TCP server with connection limits. */
export class ConnectionListener {
  readonly #options: ListenerOptions;
  #server: NetServer;
  #port = 0;
  #open = 0;
  #guard: ReturnType<typeof setInterval> | undefined;
  #exhausted = false;
  #closed = false;
  #replacing = false;
  #lastRefusalLog = 0;
  /** Connections still in their TLS handshake, with their deadlines. */
  readonly #handshakes = new Map<Socket, ReturnType<typeof setTimeout>>();
  /** Every connection open. */
  readonly #sockets = new Set<Socket>();
  #drained: (() => void)[] = [];
  /** The self-connection in flight, if any. */
  #probe: SelfConnection | undefined;

  private constructor(options: ListenerOptions) {
    this.#options = options;
    this.#server = this.#createServer();
  }

  /** Listens and resolves once it does. */
  static async listen(options: ListenerOptions): Promise<ConnectionListener> {
    const listener = new ConnectionListener(options);
    listener.#port = await listener.#listen(options.port);
    listener.#guard = setInterval(() => listener.#check(), GUARD_INTERVAL_MS);
    return listener;
  }

  /** The port it listens on. */
  get port(): number {
    return this.#port;
  }

  /** Connections open now. */
  get open(): number {
    return this.#open;
  }

  /** Resolves once no connection is open. */
  drained(): Promise<void> {
    if (this.#open === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /**
   * Marks a connection's TLS handshake as done (its timeout no longer
   * applies).
   */
  handshakeDone(socket: Socket): void {
    const timer = this.#handshakes.get(socket);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.#handshakes.delete(socket);
    }
  }

  /**
   * Closes the connections that have not finished their TLS handshake:
   * they have no call to finish (at shutdown).
   */
  closeHandshaking(): void {
    for (const socket of [...this.#handshakes.keys()]) socket.destroy();
  }

  /** Closes every connection still open (at the end of shutdown). */
  closeAll(): void {
    for (const socket of [...this.#sockets]) socket.destroy();
  }

  /** Stops accepting; open connections are left to their server. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#guard);
    this.#probe?.finish?.();
    this.#server.close();
  }

  #createServer(): NetServer {
    const server = createServer((socket) => this.#accept(socket));
    server.on("error", (error) => {
      this.#options.metrics?.acceptErrors.inc();
      log.warn(`accepting failed: ${error.message}`);
    });
    return server;
  }

  #listen(port: number): Promise<number> {
    const server = this.#server;
    return new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(
        {
          host: this.#options.host,
          port,
          reusePort: this.#options.sharedPort === true,
        },
        () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        },
      );
    });
  }

  #accept(socket: Socket): void {
    const probe = this.#probe;
    const from = socket.remoteAddress ?? "";
    if (probe && (LOOPBACK.has(from) || from === this.#options.host)) {
      if (probe.localPort === undefined) {
        // Ours, perhaps: its port is known once its own connect completes.
        probe.held.push(socket);
        return;
      }
      if (socket.remotePort === probe.localPort) {
        probe.accepted = true; // accepting works
        socket.destroy();
        return;
      }
    }
    this.#admit(socket);
  }

  #admit(socket: Socket): void {
    if (socket.destroyed) return; // closed while it was held
    const { maxConnections, metrics } = this.#options;
    if (this.#open >= maxConnections) {
      socket.destroy();
      metrics?.refused.inc();
      const now = Date.now();
      if (now - this.#lastRefusalLog > 10_000) {
        this.#lastRefusalLog = now;
        log.warn(
          `refusing connections: ${this.#open} are open, the limit is ${maxConnections} (--max-connections)`,
        );
      }
      return;
    }
    this.#open++;
    this.#sockets.add(socket);
    metrics?.open.inc();
    socket.on("error", () => {}); // the TLS socket on top reports errors
    socket.once("close", () => {
      this.#open--;
      this.#sockets.delete(socket);
      metrics?.open.dec();
      this.handshakeDone(socket);
      if (this.#open === 0) {
        for (const resolve of this.#drained.splice(0)) resolve();
      }
    });
    this.#handshakes.set(
      socket,
      setTimeout(() => {
        this.#handshakes.delete(socket);
        metrics?.handshakeTimeouts.inc();
        socket.destroy();
      }, this.#options.tlsHandshakeTimeoutMs),
    );
    this.#options.onConnection(socket);
  }

  /** The guard: are descriptors exhausted, or has accepting stalled? */
  #check(): void {
    if (this.#closed || this.#replacing) return;
    let probe: Deno.Listener | undefined;
    try {
      probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    } catch (error) {
      if (!this.#exhausted) {
        this.#exhausted = true;
        this.#options.metrics?.acceptErrors.inc();
        log.error(
          `cannot accept connections: ${
            (error as Error).message
          }; accepting resumes when descriptors are free`,
        );
      }
      return;
    } finally {
      probe?.close();
    }
    if (this.#exhausted) {
      this.#exhausted = false;
      this.#replace("descriptors are free again");
      return;
    }
    if (!this.#options.sharedPort) this.#selfConnect();
  }

  /** Connects to itself; a connection not accepted in time is a stall. */
  #selfConnect(): void {
    if (this.#probe) return;
    const host = ["0.0.0.0", "::", ""].includes(this.#options.host)
      ? "127.0.0.1"
      : this.#options.host;
    const probe: SelfConnection = { held: [], accepted: false };
    this.#probe = probe;
    const socket = connect({ host, port: this.#port });
    const release = () => {
      for (const held of probe.held.splice(0)) {
        if (held.remotePort === probe.localPort) {
          probe.accepted = true;
          held.destroy();
        } else this.#admit(held);
      }
    };
    const done = probe.finish = () => {
      clearTimeout(timer);
      probe.localPort ??= -1;
      release();
      if (this.#probe === probe) this.#probe = undefined;
      socket.destroy();
    };
    const started = performance.now();
    const timer = setTimeout(() => {
      // A late timer means a busy event loop, not a stalled listener: the
      // accept may simply not have run yet. Only an on-time verdict counts.
      const onTime = performance.now() - started < STALL_MS + 500;
      const stalled = onTime && socket.localPort !== undefined &&
        !probe.accepted;
      done();
      if (stalled && !this.#closed) {
        this.#options.metrics?.acceptErrors.inc();
        this.#replace("the listener stopped accepting");
      }
    }, STALL_MS);
    socket.on("connect", () => {
      probe.localPort = socket.localPort;
      release();
    });
    socket.on("close", () => {
      // Closed by the listener (accepted) or failed: either way, done.
      if (probe.accepted || probe.localPort === undefined) done();
    });
    socket.on("error", () => {});
  }

  /** Replaces the listening socket with a new one on the same port. */
  async #replace(why: string): Promise<void> {
    if (this.#replacing || this.#closed) return;
    this.#replacing = true;
    log.warn(`${why}: listening again on port ${this.#port}`);
    this.#server.close();
    this.#server = this.#createServer();
    for (let attempt = 1;; attempt++) {
      try {
        await this.#listen(this.#port);
        if (this.#closed) this.#server.close();
        else log.info(`accepting connections on port ${this.#port} again`);
        break;
      } catch (error) {
        if (attempt >= 50 || this.#closed) {
          log.error(
            `cannot listen on port ${this.#port} again: ${
              (error as Error).message
            }`,
          );
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    this.#replacing = false;
  }
}
