/**
 * The handlers of `ganache.cfe.CFE`: check the request, authorize the
 * caller, route by cache key and answer. The same handlers serve whatever
 * shards the {@linkcode Router} holds.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { type Acl, authorize, authorizeAny } from "./acl.ts";
import { cacheKey } from "../wire/cache_key.ts";
import { NotFoundError } from "../wire/errors.ts";
import type { Metrics } from "../ops/metrics.ts";
import { checkBatch, checkKey, checkTtl, checkValue } from "../wire/limits.ts";
import type { Router } from "../shards/router.ts";
import {
  cacheOpsHandlers,
  conditionalSet,
  setCondition,
} from "./cache_ops_service.ts";
import type { ShardWrite } from "../wire/shard.ts";
import { unaryHandler } from "./unary.ts";
import type {
  DeleteRequest,
  DeleteResponse,
  GetRequest,
  GetResponse,
  MultiGetRequest,
  MultiGetResponse,
  MultiSetRequest,
  SetRequest,
  StatsResponse,
  TTLRequest,
  TTLResponse,
} from "../wire/messages.ts";

/** Options for {@linkcode cfeImplementation}. */
export interface CfeOptions {
  /** Routes each cache key to its shard. */
  router: Router;
  /** The largest value accepted, in bytes (type URL included). */
  maxValueBytes: number;
  /** Namespace grants by client certificate; none means all allowed. */
  acl?: Acl;
  /** Counts requests and their latency. */
  metrics?: Metrics;
}

type Handler<Req, Res> = (
  call: grpc.ServerUnaryCall<Req, Res>,
) => Promise<Res>;

/** The service name requests are counted under. */
const SERVICE = "ganache.cfe.CFE";

/** A `ganache.cfe.CFE` method (see {@linkcode unaryHandler}). */
function unary<Req, Res>(
  method: string,
  metrics: Metrics | undefined,
  handle: Handler<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  return unaryHandler({ service: SERVICE, method, metrics, handle });
}

/** Builds the `ganache.cfe.CFE` handlers. */
export function cfeImplementation(
  options: CfeOptions,
): grpc.UntypedServiceImplementation {
  const { router, maxValueBytes, acl, metrics } = options;
  const EMPTY = {};

  return {
    Get: unary<GetRequest, GetResponse>("Get", metrics, async (call) => {
      const { namespace, key } = call.request;
      checkKey(namespace, key);
      authorize(acl, call, namespace);
      const k = cacheKey(namespace, key);
      const data = await router.shardFor(k).get(k);
      if (data === undefined) {
        throw new NotFoundError(
          `key "${key}" not found in namespace "${namespace}"`,
        );
      }
      return { data, version: data.version ?? 0 };
    }),

    Set: unary<SetRequest, object>("Set", metrics, async (call) => {
      const { namespace, key, data, ttlMs } = call.request;
      checkKey(namespace, key);
      const value = checkValue(data, maxValueBytes);
      checkTtl(ttlMs);
      authorize(acl, call, namespace);
      const k = cacheKey(namespace, key);
      const condition = setCondition(call.request);
      const write = { key: k, value, ttlMs };
      if (condition) await conditionalSet(router, write, condition);
      else await router.shardFor(k).set(write);
      return EMPTY;
    }),

    Delete: unary<DeleteRequest, DeleteResponse>(
      "Delete",
      metrics,
      async (call) => {
        const { namespace, key } = call.request;
        checkKey(namespace, key);
        authorize(acl, call, namespace);
        const k = cacheKey(namespace, key);
        return { existed: await router.shardFor(k).delete(k) };
      },
    ),

    TTL: unary<TTLRequest, TTLResponse>("TTL", metrics, async (call) => {
      const { namespace, key } = call.request;
      checkKey(namespace, key);
      authorize(acl, call, namespace);
      const k = cacheKey(namespace, key);
      const left = await router.shardFor(k).ttl(k);
      if (left === undefined) {
        throw new NotFoundError(
          `key "${key}" not found in namespace "${namespace}"`,
        );
      }
      return { ttlMs: left };
    }),

    MultiGet: unary<MultiGetRequest, MultiGetResponse>(
      "MultiGet",
      metrics,
      async (call) => {
        const { namespace, keys } = call.request;
        checkBatch(keys.length);
        for (const key of keys) checkKey(namespace, key);
        authorize(acl, call, namespace);
        const cacheKeys = keys.map((key) => cacheKey(namespace, key));
        const results = keys.map((key) => ({
          key,
          found: false,
          data: null as GetResponse["data"],
          version: 0,
        }));
        await Promise.all(
          [...router.group(cacheKeys)].map(async ([index, positions]) => {
            const values = await router.shards[index]!.getMany(
              positions.map((p) => cacheKeys[p]!),
            );
            positions.forEach((position, i) => {
              const value = values[i];
              if (value === undefined) return;
              const result = results[position]!;
              result.found = true;
              result.data = value;
              result.version = value.version ?? 0;
            });
          }),
        );
        return { results };
      },
    ),

    MultiSet: unary<MultiSetRequest, object>(
      "MultiSet",
      metrics,
      async (call) => {
        const { namespace, items } = call.request;
        checkBatch(items.length);
        const writes: ShardWrite[] = items.map((item) => {
          checkKey(namespace, item.key);
          checkTtl(item.ttlMs);
          return {
            key: cacheKey(namespace, item.key),
            value: checkValue(item.data, maxValueBytes),
            ttlMs: item.ttlMs,
          };
        });
        authorize(acl, call, namespace);
        await Promise.all(
          [...router.group(writes.map((w) => w.key))].map((
            [index, positions],
          ) => router.shards[index]!.setMany(positions.map((p) => writes[p]!))),
        );
        return EMPTY;
      },
    ),

    Stats: unary<object, StatsResponse>("Stats", metrics, async (call) => {
      authorizeAny(acl, call);
      const shards = await Promise.all(
        router.shards.map(async (shard, index) => ({
          shard: index,
          location: shard.location,
          restarts: shard.restarts,
          ...await shard.stats(),
        })),
      );
      return { shards, residentBytes: Deno.memoryUsage().rss };
    }),
    ...Object.fromEntries(
      Object.entries(cacheOpsHandlers({ router, acl })).map((
        [method, handle],
      ) => [method, unary(method, metrics, handle as Handler<never, never>)]),
    ),
  };
}
