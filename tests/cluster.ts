/**
 * A real cluster for tests: an etcd, and shard and frontend processes
 * started as users start them (the `shard` and `cfe` tasks), with shared
 * fresh certificates.
 *
 * @module
 */
import { GanacheClient } from "../shared/client.ts";
import {
  readRegistrations,
  type Registered,
} from "../shared/cluster/registry.ts";
import { EtcdServer } from "./etcd_server.ts";
import { makeCerts } from "./helpers.ts";
import { type ChildProcess, GanacheProcess } from "./process_helpers.ts";

/** A shard process and the address it registered. */
export interface ShardProcess {
  /** The process. */
  process: ChildProcess;
  /** Its shard number. */
  shard: number;
  /** `127.0.0.1:<port>`. */
  address: string;
}

/** A frontend process and a client connected to it. */
export interface CfeProcess {
  /** The process. */
  process: ChildProcess;
  /** `127.0.0.1:<port>`. */
  address: string;
  /** A client with the development client certificate. */
  client: GanacheClient;
  /** The metrics endpoint, when started with `--metrics-port`. */
  metricsUrl?: string;
}

/** Where Debian's `faketime` package puts the library it preloads. */
const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/**
 * The environment that runs a process on a clock shifted by `offset`:
 * what the `faketime -f <offset>` command sets before it runs its command,
 * applied to the task's own process (the `faketime` command forks, so
 * stopping it would leave the frontend running). Only the wall clock
 * moves: timers keep the real monotonic clock.
 */
function fakeClock(offset: string): Record<string, string> {
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME: offset,
    FAKETIME_DONT_FAKE_MONOTONIC: "1",
    FAKETIME_DONT_RESET: "1",
  };
}

/** Options of {@linkcode Cluster.cfe}. */
export interface CfeStartOptions {
  /**
   * Run the frontend on a shifted clock (e.g. `-1s`, `+1h`) with Debian's
   * libfaketime, which is what `faketime -f <offset>` does.
   */
  clockOffset?: string;
}

/** An etcd and the Ganache processes started against it. */
export class Cluster implements AsyncDisposable {
  /** The etcd. */
  readonly etcd: EtcdServer;
  /** The shared certificates directory. */
  readonly certs: string;
  readonly #processes: ChildProcess[] = [];
  readonly #clients: GanacheClient[] = [];

  private constructor(etcd: EtcdServer, certs: string) {
    this.etcd = etcd;
    this.certs = certs;
  }

  /**
   * Makes certificates and starts an etcd.
   *
   * @param secure Serve etcd over TLS with client certificates, and with
   * user/password auth on.
   */
  static async start(secure = false): Promise<Cluster> {
    const certs = await makeCerts();
    const etcd = await EtcdServer.start(
      secure
        ? { tlsCerts: certs, root: { user: "root", password: "s3cret-pw" } }
        : {},
    );
    return new Cluster(etcd, certs);
  }

  /** Starts a shard process (port 0 unless `args` say otherwise) and waits until it is ready. */
  async shard(args: string[] = []): Promise<ShardProcess> {
    const process = this.spawn("shard", [
      ...(args.includes("--port") ? [] : ["--port", "0"]),
      ...args,
    ]);
    const [, shard, port] = await process.waitFor(
      /shard (\d+) of \d+ serving on 127\.0\.0\.1:(\d+)/,
    );
    return { process, shard: Number(shard), address: `127.0.0.1:${port}` };
  }

  /** Starts a frontend on port 0 and waits until it routes. */
  async cfe(
    args: string[] = [],
    options: CfeStartOptions = {},
  ): Promise<CfeProcess> {
    const process = this.spawn("cfe", ["--port", "0", ...args], options);
    const [, port] = await process.waitFor(
      /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
    );
    await process.waitFor(/routing to \d+ shards/);
    const metricsUrl = args.includes("--metrics-port")
      ? (await process.waitFor(/metrics on (http:\S+\/metrics)/))[1]
      : undefined;
    const address = `127.0.0.1:${port}`;
    const client = await GanacheClient.connect({
      address,
      certs: this.certs,
      timeoutMs: 5000,
    });
    this.#clients.push(client);
    return { process, address, client, metricsUrl };
  }

  /** Starts `deno task <task>` with this cluster's etcd and certificates. */
  spawn(
    task: "shard" | "cfe",
    args: string[],
    options: CfeStartOptions = {},
  ): ChildProcess {
    const flags = [
      ...this.etcd.flags(task),
      "--certs",
      this.certs,
      "--log-level",
      "debug",
      ...args,
    ];
    const process = options.clockOffset === undefined
      ? new GanacheProcess(task, flags, this.certs, this.etcd.env())
      : new GanacheProcess(task, flags, this.certs, {
        ...this.etcd.env(),
        ...fakeClock(options.clockOffset),
      });
    this.#processes.push(process);
    return process;
  }

  /** Puts a key in etcd as anyone with access could (no lease). */
  async put(key: string, value: string): Promise<void> {
    const etcd = await this.etcd.connect();
    try {
      await etcd.put(key).value(value);
    } finally {
      etcd.close();
    }
  }

  /** The registrations in etcd now. */
  async registrations(): Promise<Registered[]> {
    const etcd = await this.etcd.connect();
    try {
      return await readRegistrations(etcd);
    } finally {
      etcd.close();
    }
  }

  /** Waits until `check` holds for the registrations (polling). */
  async waitForRegistrations(
    check: (registered: Registered[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<Registered[]> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const registered = await this.registrations().catch(() => []);
      if (check(registered)) return registered;
      if (Date.now() > deadline) {
        throw new Error(
          `registrations never matched: ${JSON.stringify(registered)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops every process, etcd, and removes the certificates. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#clients.forEach((client) => client.close());
    await Promise.all(this.#processes.map((p) => p.stop()));
    await this.etcd[Symbol.asyncDispose]();
    await Deno.remove(this.certs, { recursive: true });
  }
}
