/**
 * The client side of the read-modify-write methods (`Increment`,
 * conditional `Set`, `Touch`, `MultiDelete`, `FlushNamespace`) and of
 * versioned reads; `NamespaceClient` in `namespace_client.ts` offers each as a
 * method.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type { AnyValue, MultiGetResponse } from "./wire/messages.ts";

/** What these functions need of a client: a call by method name. */
export interface CfeCaller {
  /** Calls a `ganache.cfe.CFE` method. */
  cfe<T>(method: string, request: unknown): Promise<T>;
}

/** A value and the version of the write that stored it. */
export interface VersionedValue {
  /** The value. */
  value: AnyValue;
  /** Its version: pass it to `setIfVersion`. */
  version: number;
}

/** Options of {@linkcode increment}. */
export interface IncrementOptions {
  /** > 0: the key's new time to live in ms; none: it keeps its own. */
  ttlMs?: number;
}

function codeOf(error: unknown): number | undefined {
  return (error as Partial<grpc.ServiceError>).code;
}

/** Adds `delta` to a key's int64 (0 when missing); resolves with the sum. */
export async function increment(
  client: CfeCaller,
  namespace: string,
  key: string,
  delta: bigint | number,
  options: IncrementOptions = {},
): Promise<bigint> {
  const response = await client.cfe<{ value: string }>("Increment", {
    namespace,
    key,
    delta: BigInt(delta).toString(),
    ttlMs: options.ttlMs ?? 0,
  });
  return BigInt(response.value);
}

/**
 * Writes a value only if the key is absent (`ifVersion` undefined), or
 * only if it holds `ifVersion` (0: absent). Resolves with whether it
 * wrote: false on ALREADY_EXISTS or ABORTED.
 */
export async function conditionalSet(
  client: CfeCaller,
  request: {
    namespace: string;
    key: string;
    value: AnyValue;
    ttlMs: number;
    ifVersion?: number;
  },
): Promise<boolean> {
  const { namespace, key, value, ttlMs, ifVersion } = request;
  try {
    await client.cfe("Set", {
      namespace,
      key,
      data: value,
      ttlMs,
      ...ifVersion === undefined ? { onlyIfAbsent: true } : { ifVersion },
    });
    return true;
  } catch (error) {
    const code = codeOf(error);
    if (code === grpc.status.ALREADY_EXISTS || code === grpc.status.ABORTED) {
      return false;
    }
    throw error;
  }
}

/** Reads a value with its version; `undefined` on a miss. */
export async function getWithVersion(
  client: CfeCaller,
  namespace: string,
  key: string,
): Promise<VersionedValue | undefined> {
  try {
    const response = await client.cfe<
      { data: AnyValue | null; version: number }
    >("Get", { namespace, key });
    if (response.data === null) return undefined;
    return { value: response.data, version: response.version };
  } catch (error) {
    if (codeOf(error) === grpc.status.NOT_FOUND) return undefined;
    throw error;
  }
}

/** Reads many keys with their versions; `undefined` for a miss. */
export async function multiGetWithVersion(
  client: CfeCaller,
  namespace: string,
  keys: string[],
): Promise<(VersionedValue | undefined)[]> {
  const response = await client.cfe<MultiGetResponse>("MultiGet", {
    namespace,
    keys,
  });
  return response.results.map((r) =>
    r.found && r.data ? { value: r.data, version: r.version ?? 0 } : undefined
  );
}

/** Sets a key's time to live (0: none); resolves with whether it was there. */
export async function touch(
  client: CfeCaller,
  namespace: string,
  key: string,
  ttlMs: number,
): Promise<boolean> {
  const response = await client.cfe<{ existed: boolean }>("Touch", {
    namespace,
    key,
    ttlMs,
  });
  return response.existed;
}

/** Removes keys; per key, in order, whether it was there. */
export async function deleteMany(
  client: CfeCaller,
  namespace: string,
  keys: string[],
): Promise<boolean[]> {
  const response = await client.cfe<{ existed: boolean[] }>("MultiDelete", {
    namespace,
    keys,
  });
  return response.existed;
}

/** Hides every key of the namespace (constant cost per shard). */
export async function flushNamespace(
  client: CfeCaller,
  namespace: string,
): Promise<void> {
  await client.cfe("FlushNamespace", { namespace });
}
