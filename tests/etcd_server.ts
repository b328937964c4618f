/**
 * A real etcd for tests: the `etcd` binary (Debian's etcd-server) on free
 * loopback ports, in a temporary data directory, that can be stopped and
 * started again on the same ports and data.
 *
 * @module
 */
import { connectEtcd } from "../shared/etcd.ts";

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** A running (or stopped) etcd. */
export class EtcdServer implements AsyncDisposable {
  /** The client URL, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly #dataDir: string;
  readonly #peerPort: number;
  readonly #clientPort: number;
  #child: Deno.ChildProcess | undefined;

  private constructor(dataDir: string) {
    this.#dataDir = dataDir;
    this.#clientPort = freePort();
    this.#peerPort = freePort();
    this.url = `http://127.0.0.1:${this.#clientPort}`;
  }

  /**
   * Starts etcd and waits until it answers.
   *
   * @throws {Error} saying how to install etcd when it is not on PATH.
   */
  static async start(): Promise<EtcdServer> {
    const server = new EtcdServer(
      await Deno.makeTempDir({ prefix: "ganache-etcd-" }),
    );
    await server.resume();
    return server;
  }

  /** Starts etcd again (same ports, same data) and waits until it answers. */
  async resume(): Promise<void> {
    const peer = `http://127.0.0.1:${this.#peerPort}`;
    try {
      this.#child = new Deno.Command("etcd", {
        args: [
          "--name",
          "test",
          "--data-dir",
          this.#dataDir,
          "--listen-client-urls",
          this.url,
          "--advertise-client-urls",
          this.url,
          "--listen-peer-urls",
          peer,
          "--initial-advertise-peer-urls",
          peer,
          "--initial-cluster",
          `test=${peer}`,
          "--log-level",
          "error",
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(
          "the cluster tests need a real etcd, and `etcd` is not on PATH: install it with `apt-get install -y etcd-server`",
        );
      }
      throw error;
    }
    const client = await connectEtcd({ urls: [this.url] });
    try {
      for (let i = 0;; i++) {
        try {
          await client.get("ganache/ping").string();
          return;
        } catch (error) {
          if (i > 100) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      client.close();
    }
  }

  /** Stops etcd (its data stays). */
  async pause(): Promise<void> {
    this.#child?.kill("SIGTERM");
    await this.#child?.status;
    this.#child = undefined;
  }

  /** Stops etcd and removes its data. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.pause();
    await Deno.remove(this.#dataDir, { recursive: true });
  }
}
