/**
 * The `ganache.cfe.CFE` methods built on a shard's read-modify-write
 * operations: `Increment`, `Touch`, `MultiDelete`, `FlushNamespace`, and
 * the conditions of `Set` (`only_if_absent`, `if_version`). Each is atomic
 * per key inside the shard that holds it: its worker in `start` (see
 * `shared/shards/cache_ops.ts`), its deciding replica in a cluster (see
 * `shared/cluster/cluster_shard.ts`); a shard that does not offer them
 * answers UNIMPLEMENTED. The handlers throw; `cfe_service.ts` wraps them like every
 * other method (errors to statuses, metrics, tracing).
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { type Acl, authorize } from "./acl.ts";
import { cacheKey } from "../wire/cache_key.ts";
import { InvalidArgumentError, UnimplementedError } from "../wire/errors.ts";
import { checkInt64 } from "../wire/int64_bytes.ts";
import {
  checkBatch,
  checkKey,
  checkNamespace,
  checkTtl,
} from "../wire/limits.ts";
import type { Router } from "../shards/router.ts";
import {
  type CacheOpsShard,
  hasCacheOps,
  type SetCondition,
  type Shard,
  type ShardWrite,
} from "../wire/shard.ts";
import type {
  FlushNamespaceRequest,
  IncrementRequest,
  IncrementResponse,
  MultiDeleteRequest,
  MultiDeleteResponse,
  SetRequest,
  TouchRequest,
  TouchResponse,
} from "../wire/messages.ts";

/** What the handlers need. */
export interface CacheOpsOptions {
  /** Routes each cache key to its shard. */
  router: Router;
  /** Namespace grants by client certificate; none means all allowed. */
  acl?: Acl;
}

/** A handler before `cfe_service.ts` wraps it. */
export type CacheOpHandler<Req, Res> = (
  call: grpc.ServerUnaryCall<Req, Res>,
) => Promise<Res>;

/** The handlers of {@linkcode cacheOpsHandlers}, by method name. */
export interface CacheOpHandlers {
  /** `Increment`. */
  Increment: CacheOpHandler<IncrementRequest, IncrementResponse>;
  /** `Touch`. */
  Touch: CacheOpHandler<TouchRequest, TouchResponse>;
  /** `MultiDelete`. */
  MultiDelete: CacheOpHandler<MultiDeleteRequest, MultiDeleteResponse>;
  /** `FlushNamespace`. */
  FlushNamespace: CacheOpHandler<FlushNamespaceRequest, object>;
}

/** The shard, if it offers the read-modify-write operations. */
export function cacheOps(shard: Shard, what: string): CacheOpsShard {
  if (!hasCacheOps(shard)) {
    throw new UnimplementedError(
      `${what} is not offered by ${shard.location} shards`,
    );
  }
  return shard;
}

/** The condition a `SetRequest` carries, or `undefined` for a plain Set. */
export function setCondition(request: SetRequest): SetCondition | undefined {
  const onlyIfAbsent = request.onlyIfAbsent === true;
  const ifVersion = request.ifVersion ?? undefined;
  if (!onlyIfAbsent && ifVersion === undefined) return undefined;
  return ifVersion === undefined ? { onlyIfAbsent } : {
    onlyIfAbsent,
    ifVersion,
  };
}

/** Writes `write` on its shard if `condition` holds (a conditional Set). */
export async function conditionalSet(
  router: Router,
  write: ShardWrite,
  condition: SetCondition,
): Promise<void> {
  const what = condition.onlyIfAbsent ? "only_if_absent" : "if_version";
  await cacheOps(router.shardFor(write.key), what).setIf(write, condition);
}

/** Builds the handlers of the read-modify-write methods. */
export function cacheOpsHandlers(options: CacheOpsOptions): CacheOpHandlers {
  const { router, acl } = options;
  return {
    Increment: async (call) => {
      const { namespace, key } = call.request;
      const ttlMs = Number(call.request.ttlMs);
      checkKey(namespace, key);
      checkTtl(ttlMs);
      const delta = checkInt64(parseDelta(call.request.delta), "delta");
      authorize(acl, call, namespace);
      const k = cacheKey(namespace, key);
      const sum = await cacheOps(router.shardFor(k), "Increment")
        .increment(k, delta, ttlMs);
      return { value: sum.toString() };
    },

    Touch: async (call) => {
      const { namespace, key, ttlMs } = call.request;
      checkKey(namespace, key);
      checkTtl(ttlMs);
      authorize(acl, call, namespace);
      const k = cacheKey(namespace, key);
      return {
        existed: await cacheOps(router.shardFor(k), "Touch").touch(k, ttlMs),
      };
    },

    MultiDelete: async (call) => {
      const { namespace, keys } = call.request;
      checkBatch(keys.length);
      for (const key of keys) checkKey(namespace, key);
      authorize(acl, call, namespace);
      const cacheKeys = keys.map((key) => cacheKey(namespace, key));
      const existed = keys.map(() => false);
      await Promise.all(
        [...router.group(cacheKeys)].map(async ([index, positions]) => {
          const shard = cacheOps(router.shards[index]!, "MultiDelete");
          const found = await shard.deleteMany(
            positions.map((p) => cacheKeys[p]!),
          );
          positions.forEach((position, i) => existed[position] = found[i]!);
        }),
      );
      return { existed };
    },

    FlushNamespace: async (call) => {
      const { namespace } = call.request;
      checkNamespace(namespace);
      authorize(acl, call, namespace);
      const shards = router.shards.map((shard) =>
        cacheOps(shard, "FlushNamespace")
      );
      await Promise.all(shards.map((shard) => shard.flushNamespace(namespace)));
      return {};
    },
  };
}

/** The delta as a bigint: a decimal string from the exact decoder. */
function parseDelta(delta: unknown): bigint {
  try {
    return BigInt(delta as string | number);
  } catch {
    throw new InvalidArgumentError(`delta is not an integer: ${delta}`);
  }
}
