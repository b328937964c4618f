/**
 * A real etcd for tests: the `etcd` binary (Debian's etcd-server) on
 * loopback ports it picks itself (port 0; the ports are read from its log),
 * in a temporary data directory, that can be stopped and started again on
 * the same ports and data; optionally with TLS, client certificates and
 * user/password auth.
 *
 * @module
 */
import type { Etcd3 } from "etcd3";
import { connectEtcd } from "../shared/cluster/etcd.ts";
import { lineReader } from "./process_helpers.ts";

/** etcd's log lines that name the ports it bound. */
const CLIENT_PORT =
  /serving (?:insecure )?client requests on 127\.0\.0\.1:(\d+)/;
const PEER_PORT = /listening for peers on 127\.0\.0\.1:(\d+)/;

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
  readonly #dataDir: string;
  readonly #security: EtcdSecurity;
  /** The ports etcd bound the first time (0 until then). */
  #clientPort = 0;
  #peerPort = 0;
  #child: Deno.ChildProcess | undefined;
  #authOn = false;

  private constructor(dataDir: string, security: EtcdSecurity) {
    this.#dataDir = dataDir;
    this.#security = security;
  }

  /** The client URL, e.g. `http://127.0.0.1:PORT`. */
  get url(): string {
    // Over TLS, etcd is named by DNS name: under Deno, etcd3's auth client
    // cannot verify a certificate against an IP address (see README).
    return this.#security.tlsCerts
      ? `https://localhost:${this.#clientPort}`
      : `http://127.0.0.1:${this.#clientPort}`;
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
      // At info, etcd logs the ports it bound.
      ["--name", "test", "--data-dir", this.#dataDir, "--log-level", "info"],
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
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(
          "the cluster tests need a real etcd, and `etcd` is not on PATH: install it with `apt-get install -y etcd-server`",
        );
      }
      throw error;
    }
    if (this.#clientPort === 0) await this.#readPorts(this.#child);
    else this.#child.stderr.pipeTo(new WritableStream()).catch(() => {});
    const client = await this.connect();
    try {
      for (let i = 0;; i++) {
        try {
          await client.get("ganache/ping").string();
          return;
        } catch (error) {
          if (i > 100) throw error;
          // A condition, polled: etcd answers once it is up.
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      client.close();
    }
  }

  /**
   * Reads the ports etcd bound from its log (it was started on port 0),
   * then keeps reading its log so that it never blocks on a full pipe.
   */
  async #readPorts(child: Deno.ChildProcess): Promise<void> {
    const lines = lineReader(child.stderr);
    const seen: string[] = [];
    // Not `for await`: leaving it would close the pipe etcd still writes to.
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const line = next.value;
      seen.push(line);
      this.#peerPort ||= Number(PEER_PORT.exec(line)?.[1] ?? 0);
      this.#clientPort ||= Number(CLIENT_PORT.exec(line)?.[1] ?? 0);
      if (this.#clientPort && this.#peerPort) {
        (async () => {
          while (!(await lines.next()).done) { /* drained */ }
        })().catch(() => {});
        return;
      }
    }
    throw new Error(
      `etcd exited before it named its ports; its log:\n${seen.join("\n")}`,
    );
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
