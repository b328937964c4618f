/**
 * Reads and writes within one namespace of a Ganache frontend: raw `Any`
 * values, typed values through the codecs of `client_codecs.ts`, batches
 * and the read-modify-write methods. `GanacheClient.namespace` in
 * `client.ts` (the package entry point) makes one.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as ops from "./cache_ops_client.ts";
import type { CfeCaller } from "./cache_ops_client.ts";
import {
  type Codec,
  codecs,
  type Entries,
  entriesOf,
  type MultiSetItem,
  type SetOptions,
} from "./client_codecs.ts";
import type { AnyValue, MultiGetResponse } from "./wire/messages.ts";

/** Reads and writes within one namespace. */
export class NamespaceClient {
  readonly #client: CfeCaller;
  /** The namespace. */
  readonly name: string;

  /** Use {@linkcode GanacheClient.namespace}. */
  constructor(client: CfeCaller, name: string) {
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
    return this.set(key, codecs.string.encode(value), options);
  }

  /** Reads a string; `undefined` on a miss. */
  async getString(key: string): Promise<string | undefined> {
    const value = await this.get(key);
    return value && codecs.string.decode(value);
  }

  /** Writes a 64-bit integer (as `google.protobuf.Int64Value`). */
  setInt64(key: string, value: bigint, options?: SetOptions): Promise<void> {
    return this.set(key, codecs.int64.encode(value), options);
  }

  /** Reads a 64-bit integer; `undefined` on a miss. */
  async getInt64(key: string): Promise<bigint | undefined> {
    const value = await this.get(key);
    return value && codecs.int64.decode(value);
  }

  /** Writes bytes (as `google.protobuf.BytesValue`). */
  setBytes(
    key: string,
    value: Uint8Array,
    options?: SetOptions,
  ): Promise<void> {
    return this.set(key, codecs.bytes.encode(value), options);
  }

  /** Reads bytes; `undefined` on a miss. */
  async getBytes(key: string): Promise<Uint8Array | undefined> {
    const value = await this.get(key);
    return value && codecs.bytes.decode(value);
  }

  /** Writes a value as JSON text (in a `google.protobuf.StringValue`). */
  setJSON(key: string, value: unknown, options?: SetOptions): Promise<void> {
    return this.set(key, codecs.json.encode(value), options);
  }

  /** Reads a JSON value; `undefined` on a miss. */
  async getJSON<T = unknown>(key: string): Promise<T | undefined> {
    const value = await this.get(key);
    return value && (codecs.json as Codec<T>).decode(value);
  }
}
