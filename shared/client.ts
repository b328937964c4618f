/**
 * The typed Ganache client, for Deno and Node programs: the entry point of
 * the `@ganache/cache` package (`deno.json` `exports`).
 *
 * @example
 * ```ts
 * import { GanacheClient } from "@ganache/cache";
 *
 * const client = await GanacheClient.connect({ address: "127.0.0.1:40001", certs: "certs" });
 * const demo = client.namespace("demo");
 * await demo.setString("greeting", "hello", { ttlMs: 60_000 });
 * console.log(await demo.getString("greeting")); // "hello"
 * await demo.multiSetString({ a: "1", b: "2" });
 * console.log(await demo.multiGetString(["a", "b", "c"])); // ["1", "2", undefined]
 * client.close();
 * ```
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import {
  clientCredentials,
  readTlsFiles,
  tlsChannelOptions,
  type TlsFiles,
} from "./frontend/tls.ts";
import { unaryCall } from "./wire/call.ts";
import { CFE_SERVICE, HEALTH_SERVICE } from "./wire/services.ts";
import { NamespaceClient } from "./namespace_client.ts";
import type {
  HealthCheckResponse,
  ServingStatus,
  StatsResponse,
} from "./wire/messages.ts";

export type {
  AnyValue,
  ServingStatus,
  ShardStats,
  StatsResponse,
} from "./wire/messages.ts";
export type { TlsFiles } from "./frontend/tls.ts";
export type { IncrementOptions, VersionedValue } from "./cache_ops_client.ts";
export {
  type Codec,
  codecs,
  type Entries,
  type MultiSetItem,
  type SetOptions,
} from "./client_codecs.ts";
export { NamespaceClient } from "./namespace_client.ts";

/** Options for {@linkcode GanacheClient.connect}. */
export interface ClientOptions {
  /** The frontend, `host:port`. @default "127.0.0.1:40001" */
  address?: string;
  /**
   * A certificates directory holding `ca.crt`, `client.crt` and
   * `client.key`. Ignored when `tls` is given.
   * @default "certs"
   */
  certs?: string;
  /** The PEM files to use, instead of reading `certs`. */
  tls?: TlsFiles;
  /** The name the server certificate must carry; by default the host, or `localhost` for an IP. */
  serverName?: string;
  /** Deadline of each call in milliseconds. @default 5000 */
  timeoutMs?: number;
  /** Extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
}

const CfeClient = grpc.makeGenericClientConstructor(CFE_SERVICE, "CFE");
const HealthClient = grpc.makeGenericClientConstructor(
  HEALTH_SERVICE,
  "Health",
);

/** A connection to a Ganache frontend. */
export class GanacheClient {
  readonly #cfe: grpc.Client;
  readonly #health: grpc.Client;
  readonly #timeoutMs: number;

  private constructor(
    cfe: grpc.Client,
    health: grpc.Client,
    timeoutMs: number,
  ) {
    this.#cfe = cfe;
    this.#health = health;
    this.#timeoutMs = timeoutMs;
  }

  /** Connects (lazily: the first call opens the TLS connection). */
  static async connect(options: ClientOptions = {}): Promise<GanacheClient> {
    const address = options.address ?? "127.0.0.1:40001";
    const files = options.tls ??
      await readTlsFiles(options.certs ?? "certs", "client");
    const credentials = clientCredentials(files);
    const channelOptions: grpc.ChannelOptions = {
      ...tlsChannelOptions(address, options.serverName),
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
      ...options.channelOptions,
    };
    const cfe = new CfeClient(address, credentials, channelOptions);
    const health = new HealthClient(address, credentials, {
      ...channelOptions,
      // Share the CFE client's connection.
      channelOverride: cfe.getChannel(),
    });
    return new GanacheClient(cfe, health, options.timeoutMs ?? 5000);
  }

  /** A view of one namespace. */
  namespace(name: string): NamespaceClient {
    return new NamespaceClient(this, name);
  }

  /** Per-shard counters. */
  stats(): Promise<StatsResponse> {
    return this.call(this.#cfe, "Stats", {});
  }

  /** The server's health status for `service` (`""`: the whole server). */
  async health(service = ""): Promise<ServingStatus> {
    const response = await this.call<HealthCheckResponse>(
      this.#health,
      "Check",
      { service },
    );
    return response.status;
  }

  /** Closes the connection. */
  close(): void {
    this.#cfe.close();
  }

  /**
   * Calls a CFE method by name. Errors are grpc-js `ServiceError`s with
   * the status `code`.
   */
  cfe<T>(method: string, request: unknown): Promise<T> {
    return this.call(this.#cfe, method, request);
  }

  private call<T>(
    client: grpc.Client,
    method: string,
    request: unknown,
  ): Promise<T> {
    return unaryCall<T>(client, method, request, {
      deadline: Date.now() + this.#timeoutMs,
    });
  }
}
