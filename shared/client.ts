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
import {
  decodeBytes,
  decodeInt64,
  decodeJSON,
  decodeString,
  encodeBytes,
  encodeInt64,
  encodeJSON,
  encodeString,
} from "./wire/values.ts";
import { unaryCall } from "./wire/call.ts";
import { CFE_SERVICE, HEALTH_SERVICE } from "./wire/services.ts";
import * as ops from "./cache_ops_client.ts";
import type {
  AnyValue,
  HealthCheckResponse,
  MultiGetResponse,
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

/**
 * How a type of value travels inside `google.protobuf.Any`, as the original
 * Go client encodes it.
 */
export interface Codec<T> {
  /** Wraps a value in `Any`. */
  encode(value: T): AnyValue;
  /**
   * Unwraps a value.
   * @throws {Error} when the value is of another type.
   */
  decode(value: AnyValue): T;
}

/** The codecs of the value types the typed methods use. */
export const codecs: {
  /** `google.protobuf.StringValue`. */
  string: Codec<string>;
  /** `google.protobuf.Int64Value`. */
  int64: Codec<bigint>;
  /** `google.protobuf.BytesValue`. */
  bytes: Codec<Uint8Array>;
  /** JSON text in a `google.protobuf.StringValue`. */
  json: Codec<unknown>;
} = {
  string: { encode: encodeString, decode: decodeString },
  int64: { encode: encodeInt64, decode: decodeInt64 },
  bytes: { encode: encodeBytes, decode: decodeBytes },
  json: { encode: encodeJSON, decode: decodeJSON },
};

/** Keys and values to write: an object, a `Map` or `[key, value]` pairs. */
export type Entries<T> =
  | Record<string, T>
  | Map<string, T>
  | Iterable<readonly [string, T]>;

function entriesOf<T>(entries: Entries<T>): [string, T][] {
  if (entries instanceof Map || Symbol.iterator in entries) {
    return Array.from(entries as Iterable<[string, T]>);
  }
  return Object.entries(entries);
}

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

/** Options of a write. */
export interface SetOptions {
  /** Time to live in milliseconds; 0 or absent means no expiry. */
  ttlMs?: number;
}

/** One item of {@linkcode NamespaceClient.multiSet}. */
export interface MultiSetItem extends SetOptions {
  /** The key. */
  key: string;
  /** The value, already wrapped in `Any`. */
  value: AnyValue;
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

/** Reads and writes within one namespace. */
export class NamespaceClient {
  readonly #client: GanacheClient;
  /** The namespace. */
  readonly name: string;

  /** Use {@linkcode GanacheClient.namespace}. */
  constructor(client: GanacheClient, name: string) {
    this.#client = client;
    this.name = name;
  }

  /** Reads a raw `Any` value; `undefined` on a miss. */
  async get(key: string): Promise<AnyValue | undefined> {
    try {
      const response = await this.#client.cfe<{ data: AnyValue | null }>(
        "Get",
        { namespace: this.name, key },
      );
      return response.data ?? undefined;
    } catch (error) {
      if ((error as grpc.ServiceError).code === grpc.status.NOT_FOUND) {
        return undefined;
      }
      throw error;
    }
  }

  /** Writes a raw `Any` value. */
  async set(
    key: string,
    value: AnyValue,
    options: SetOptions = {},
  ): Promise<void> {
    await this.#client.cfe("Set", {
      namespace: this.name,
      key,
      data: value,
      ttlMs: options.ttlMs ?? 0,
    });
  }

  /** Removes a key; tells whether it was there. */
  async delete(key: string): Promise<boolean> {
    const response = await this.#client.cfe<{ existed: boolean }>("Delete", {
      namespace: this.name,
      key,
    });
    return response.existed;
  }

  /** Milliseconds left to live: 0 for no expiry, `undefined` on a miss. */
  async ttl(key: string): Promise<number | undefined> {
    try {
      const response = await this.#client.cfe<{ ttlMs: number }>("TTL", {
        namespace: this.name,
        key,
      });
      return response.ttlMs;
    } catch (error) {
      if ((error as grpc.ServiceError).code === grpc.status.NOT_FOUND) {
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Adds `delta` to the key's int64 atomically (a missing key holds 0) and
   * resolves with the sum, exact over the int64 range. Rejects with
   * FAILED_PRECONDITION when the key holds another type, OUT_OF_RANGE on
   * overflow.
   */
  increment(
    key: string,
    delta: bigint | number,
    options?: ops.IncrementOptions,
  ): Promise<bigint> {
    return ops.increment(this.#client, this.name, key, delta, options);
  }

  /** Writes only if the key is absent; resolves with whether it wrote. */
  setIfAbsent(
    key: string,
    value: AnyValue,
    options: SetOptions = {},
  ): Promise<boolean> {
    const ttlMs = options.ttlMs ?? 0;
    return ops.conditionalSet(this.#client, {
      namespace: this.name,
      key,
      value,
      ttlMs,
    });
  }

  /**
   * Writes only if the key holds `version` (from
   * {@linkcode NamespaceClient.getWithVersion}; 0: only if absent);
   * resolves with whether it wrote.
   */
  setIfVersion(
    key: string,
    value: AnyValue,
    version: number,
    options: SetOptions = {},
  ): Promise<boolean> {
    const ttlMs = options.ttlMs ?? 0;
    return ops.conditionalSet(this.#client, {
      namespace: this.name,
      key,
      value,
      ttlMs,
      ifVersion: version,
    });
  }

  /** Reads a value and its version; `undefined` on a miss. */
  getWithVersion(key: string): Promise<ops.VersionedValue | undefined> {
    return ops.getWithVersion(this.#client, this.name, key);
  }

  /** Reads many keys with their versions; `undefined` for a miss. */
  multiGetWithVersion(
    keys: string[],
  ): Promise<(ops.VersionedValue | undefined)[]> {
    return ops.multiGetWithVersion(this.#client, this.name, keys);
  }

  /** Sets the key's TTL (0: none) without rewriting it; whether it was there. */
  touch(key: string, ttlMs: number): Promise<boolean> {
    return ops.touch(this.#client, this.name, key, ttlMs);
  }

  /** Removes many keys in one call; per key, whether it was there. */
  deleteMany(keys: string[]): Promise<boolean[]> {
    return ops.deleteMany(this.#client, this.name, keys);
  }

  /** Removes every key of this namespace at once. */
  flushNamespace(): Promise<void> {
    return ops.flushNamespace(this.#client, this.name);
  }

  /** Reads many keys; one slot per key, in order, `undefined` on a miss. */
  async multiGet(keys: string[]): Promise<(AnyValue | undefined)[]> {
    const response = await this.#client.cfe<MultiGetResponse>("MultiGet", {
      namespace: this.name,
      keys,
    });
    return response.results.map((r) =>
      r.found ? r.data ?? undefined : undefined
    );
  }

  /** Writes many keys. */
  async multiSet(items: MultiSetItem[]): Promise<void> {
    await this.#client.cfe("MultiSet", {
      namespace: this.name,
      items: items.map((item) => ({
        key: item.key,
        data: item.value,
        ttlMs: item.ttlMs ?? 0,
      })),
    });
  }

  /**
   * Reads many keys of one type; one slot per key, in order, `undefined`
   * on a miss.
   *
   * @throws {Error} when a value found is of another type.
   */
  async multiGetAs<T>(
    keys: string[],
    codec: Codec<T>,
  ): Promise<(T | undefined)[]> {
    const values = await this.multiGet(keys);
    return values.map((value) => value && codec.decode(value));
  }

  /** Writes many keys of one type, with the same options. */
  multiSetAs<T>(
    entries: Entries<T>,
    codec: Codec<T>,
    options: SetOptions = {},
  ): Promise<void> {
    return this.multiSet(
      entriesOf(entries).map(([key, value]) => ({
        key,
        value: codec.encode(value),
        ttlMs: options.ttlMs,
      })),
    );
  }

  /** Reads many strings; `undefined` for a miss. */
  multiGetString(keys: string[]): Promise<(string | undefined)[]> {
    return this.multiGetAs(keys, codecs.string);
  }

  /** Writes many strings. */
  multiSetString(
    entries: Entries<string>,
    options?: SetOptions,
  ): Promise<void> {
    return this.multiSetAs(entries, codecs.string, options);
  }

  /** Reads many 64-bit integers; `undefined` for a miss. */
  multiGetInt64(keys: string[]): Promise<(bigint | undefined)[]> {
    return this.multiGetAs(keys, codecs.int64);
  }

  /** Writes many 64-bit integers. */
  multiSetInt64(
    entries: Entries<bigint>,
    options?: SetOptions,
  ): Promise<void> {
    return this.multiSetAs(entries, codecs.int64, options);
  }

  /** Reads many byte values; `undefined` for a miss. */
  multiGetBytes(keys: string[]): Promise<(Uint8Array | undefined)[]> {
    return this.multiGetAs(keys, codecs.bytes);
  }

  /** Writes many byte values. */
  multiSetBytes(
    entries: Entries<Uint8Array>,
    options?: SetOptions,
  ): Promise<void> {
    return this.multiSetAs(entries, codecs.bytes, options);
  }

  /** Reads many JSON values; `undefined` for a miss. */
  multiGetJSON<T = unknown>(keys: string[]): Promise<(T | undefined)[]> {
    return this.multiGetAs(keys, codecs.json as Codec<T>);
  }

  /** Writes many values as JSON text. */
  multiSetJSON(entries: Entries<unknown>, options?: SetOptions): Promise<void> {
    return this.multiSetAs(entries, codecs.json, options);
  }

  /** Writes a string (as `google.protobuf.StringValue`). */
  setString(key: string, value: string, options?: SetOptions): Promise<void> {
    return this.set(key, encodeString(value), options);
  }

  /** Reads a string; `undefined` on a miss. */
  async getString(key: string): Promise<string | undefined> {
    const value = await this.get(key);
    return value && decodeString(value);
  }

  /** Writes a 64-bit integer (as `google.protobuf.Int64Value`). */
  setInt64(key: string, value: bigint, options?: SetOptions): Promise<void> {
    return this.set(key, encodeInt64(value), options);
  }

  /** Reads a 64-bit integer; `undefined` on a miss. */
  async getInt64(key: string): Promise<bigint | undefined> {
    const value = await this.get(key);
    return value && decodeInt64(value);
  }

  /** Writes bytes (as `google.protobuf.BytesValue`). */
  setBytes(
    key: string,
    value: Uint8Array,
    options?: SetOptions,
  ): Promise<void> {
    return this.set(key, encodeBytes(value), options);
  }

  /** Reads bytes; `undefined` on a miss. */
  async getBytes(key: string): Promise<Uint8Array | undefined> {
    const value = await this.get(key);
    return value && decodeBytes(value);
  }

  /** Writes a value as JSON text (in a `google.protobuf.StringValue`). */
  setJSON(key: string, value: unknown, options?: SetOptions): Promise<void> {
    return this.set(key, encodeJSON(value), options);
  }

  /** Reads a JSON value; `undefined` on a miss. */
  async getJSON<T = unknown>(key: string): Promise<T | undefined> {
    const value = await this.get(key);
    return value && decodeJSON<T>(value);
  }
}
