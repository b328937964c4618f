/**
 * A real etcd for tests: the `etcd` binary (Debian's etcd-server) on free
 * loopback ports, in a temporary data directory, that can be stopped and
 * started again on the same ports and data; optionally with TLS, client
 * certificates and user/password auth.
 *
 * @module
 */
import type { Etcd3 } from "etcd3";
import { connectEtcd } from "../shared/cluster/etcd.ts";

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** How to secure a test etcd. */
export interface EtcdSecurity {
  /**
   * A development certificates directory: etcd serves TLS with `cfe.crt`
   * and requires client certificates that chain to `ca.crt`.
   */
  tlsCerts?: string;
  /** Turn on user/password auth with this root user. */
  root?: { user: string; password: string };
}

/** A running (or stopped) etcd. */
export class EtcdServer implements AsyncDisposable {
  /** The client URL, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly #dataDir: string;
  readonly #peerPort = freePort();
  readonly #security: EtcdSecurity;
  #child: Deno.ChildProcess | undefined;
  #authOn = false;

  private constructor(dataDir: string, security: EtcdSecurity) {
    this.#dataDir = dataDir;
    this.#security = security;
    // Over TLS, etcd is named by DNS name: under Deno, etcd3's auth client
    // cannot verify a certificate against an IP address (see README).
    this.url = security.tlsCerts
      ? `https://localhost:${freePort()}`
      : `http://127.0.0.1:${freePort()}`;
  }

  /**
   * Starts etcd and waits until it answers.
   *
   * @throws {Error} saying how to install etcd when it is not on PATH.
   */
  static async start(security: EtcdSecurity = {}): Promise<EtcdServer> {
    const server = new EtcdServer(
      await Deno.makeTempDir({ prefix: "ganache-etcd-" }),
      security,
    );
    await server.resume();
    if (security.root) await server.#enableAuth(security.root);
    return server;
  }

  /** The `--etcd*` flags a Ganache process needs to reach this etcd. */
  flags(role: "shard" | "cfe"): string[] {
    const dir = this.#security.tlsCerts;
    const tls = dir
      ? [
        ["--etcd-ca", `${dir}/ca.crt`],
        ["--etcd-cert", `${dir}/${role}.crt`],
        ["--etcd-key", `${dir}/${role}.key`],
      ].flat()
      : [];
    return ["--etcd", this.url, ...tls];
  }

  /** The environment a Ganache process needs to reach this etcd. */
  env(): Record<string, string> {
    const root = this.#security.root;
    return root
      ? { GANACHE_ETCD_USER: root.user, GANACHE_ETCD_PASSWORD: root.password }
      : {};
  }

  /** A client of this etcd, with its TLS and auth settings. */
  connect(): Promise<Etcd3> {
    const dir = this.#security.tlsCerts;
    const root = this.#authOn ? this.#security.root : undefined;
    return connectEtcd({
      urls: [this.url],
      ...(dir
        ? { ca: `${dir}/ca.crt`, cert: `${dir}/cfe.crt`, key: `${dir}/cfe.key` }
        : {}),
      ...(root ? { user: root.user, password: root.password } : {}),
    });
  }

  /** Starts etcd again (same ports, same data) and waits until it answers. */
  async resume(): Promise<void> {
    const peer = `http://127.0.0.1:${this.#peerPort}`;
    const dir = this.#security.tlsCerts;
    const args = [
      ["--name", "test", "--data-dir", this.#dataDir, "--log-level", "error"],
      ["--listen-client-urls", this.url.replace("localhost", "127.0.0.1")],
      ["--advertise-client-urls", this.url],
      ["--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer],
      ["--initial-cluster", `test=${peer}`],
      dir
        ? [
          ["--cert-file", `${dir}/cfe.crt`, "--key-file", `${dir}/cfe.key`],
          ["--client-cert-auth", "--trusted-ca-file", `${dir}/ca.crt`],
        ].flat()
        : [],
    ].flat();
    try {
      this.#child = new Deno.Command("etcd", {
        args,
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
    const client = await this.connect();
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

  async #enableAuth(root: { user: string; password: string }): Promise<void> {
    const dir = this.#security.tlsCerts;
    const tls = dir
      ? [
        "--cacert",
        `${dir}/ca.crt`,
        "--cert",
        `${dir}/cfe.crt`,
        "--key",
        `${dir}/cfe.key`,
      ]
      : [];
    for (
      const args of [
        ["role", "add", "root"],
        ["user", "add", `${root.user}:${root.password}`],
        ["user", "grant-role", root.user, "root"],
        ["auth", "enable"],
      ]
    ) {
      const out = await new Deno.Command("etcdctl", {
        args: ["--endpoints", this.url, ...tls, ...args],
        env: { ETCDCTL_API: "3" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!out.success) {
        throw new Error(
          `etcdctl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
        );
      }
    }
    this.#authOn = true;
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
