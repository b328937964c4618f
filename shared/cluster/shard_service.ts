/**
 * The handlers of the internal `ganache.shard.Shard` service: a remote
 * shard's store, reachable only by frontends and peer shards.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { peerCommonName, type ServerSurfaceCall } from "../frontend/acl.ts";
import {
  InvalidArgumentError,
  PermissionDeniedError,
  Status,
  toServiceError,
} from "../wire/errors.ts";
import type { Metrics } from "../ops/metrics.ts";
import { inSpan, traceparentOf, TRACING } from "../ops/tracing.ts";
import { MAX_BATCH_ITEMS } from "../wire/limits.ts";
import type { ShardWrite } from "../wire/shard.ts";
import type { ShardStore } from "../store/store.ts";
import { MalformedRequest } from "../wire/services.ts";
import type {
  AnyValue,
  EntriesResponse,
  KeysRequest,
  ShardDeleteResponse,
  ShardEntry,
  WritesRequest,
} from "../wire/messages.ts";

/** How many entries one `Dump` message carries. */
const DUMP_CHUNK = 512;

/** Options for {@linkcode shardImplementation}. */
export interface ShardServiceOptions {
  /** The store the service reads and writes. */
  store: ShardStore;
  /** Certificate common names allowed to call (frontends and peer shards). */
  peers: readonly string[];
  /** Counts requests and their latency. */
  metrics?: Metrics;
}

/** Builds the `ganache.shard.Shard` handlers. */
export function shardImplementation(
  options: ShardServiceOptions,
): grpc.UntypedServiceImplementation {
  const { store } = options;
  const peers = new Set(options.peers);

  /** Refuses callers that are not frontends or shards, and malformed requests. */
  const admit = (call: ServerSurfaceCall & { request: unknown }) => {
    const name = peerCommonName(call);
    if (name === undefined || !peers.has(name)) {
      throw new PermissionDeniedError(
        `certificate "${name ?? "(none)"}" may not call a shard; allowed: ${
          [...peers].join(", ")
        }`,
      );
    }
    if (call.request instanceof MalformedRequest) {
      throw new InvalidArgumentError(
        `malformed request: ${call.request.reason}`,
      );
    }
  };

  function unary<Req, Res>(
    method: string,
    handler: (request: Req) => Res,
  ): grpc.handleUnaryCall<Req, Res> {
    const serve: grpc.handleUnaryCall<Req, Res> = (call, callback) => {
      const started = performance.now();
      let code: number = Status.OK;
      try {
        admit(call);
        callback(null, handler(call.request));
      } catch (error) {
        const status = toServiceError(error);
        code = status.code;
        callback(status);
      }
      options.metrics?.observe(
        "ganache.shard.Shard",
        method,
        code,
        (performance.now() - started) / 1000,
      );
    };
    if (!TRACING) return serve;
    return (call, callback) => {
      inSpan(
        `ganache.shard.Shard/${method}`,
        "server",
        traceparentOf(call.metadata),
        () => Promise.resolve(serve(call, callback)),
      );
    };
  }

  const checkCount = (count: number) => {
    if (count > MAX_BATCH_ITEMS) {
      throw new InvalidArgumentError(
        `request has ${count} keys: the limit is ${MAX_BATCH_ITEMS}`,
      );
    }
  };

  return {
    Get: unary<KeysRequest, EntriesResponse>("Get", ({ keys }) => {
      checkCount(keys.length);
      return {
        entries: keys.map((key) => {
          const value = store.get(key);
          return value === undefined
            ? missing(key)
            : entry(key, value, 0, value.version ?? 0);
        }),
      };
    }),

    Set: unary<WritesRequest, object>("Set", ({ entries }) => {
      checkCount(entries.length);
      store.setMany(entries.map(toWrite));
      return {};
    }),

    Delete: unary<KeysRequest, ShardDeleteResponse>("Delete", ({ keys }) => {
      checkCount(keys.length);
      return { existed: keys.map((key) => store.delete(key)) };
    }),

    TTL: unary<KeysRequest, EntriesResponse>("TTL", ({ keys }) => {
      checkCount(keys.length);
      return {
        entries: keys.map((key) => {
          const ttlMs = store.ttl(key);
          return ttlMs === undefined
            ? missing(key)
            : { key, found: true, data: null, ttlMs, version: 0 };
        }),
      };
    }),

    Stats: unary<object, object>("Stats", () => {
      store.purgeExpired();
      return store.stats();
    }),

    Dump: (call: grpc.ServerWritableStream<object, EntriesResponse>) => {
      try {
        admit(call);
      } catch (error) {
        call.destroy(Object.assign(new Error(), toServiceError(error)));
        return;
      }
      let chunk: ShardEntry[] = [];
      for (const write of store.writes()) {
        chunk.push(
          entry(write.key, write.value, write.ttlMs, write.version ?? 0),
        );
        if (chunk.length === DUMP_CHUNK) {
          call.write({ entries: chunk });
          chunk = [];
        }
      }
      if (chunk.length > 0) call.write({ entries: chunk });
      call.end();
    },
  };
}

function entry(
  key: string,
  data: AnyValue,
  ttlMs: number,
  version: number,
): ShardEntry {
  return {
    key,
    found: true,
    data: { typeUrl: data.typeUrl, value: data.value },
    ttlMs,
    version,
  };
}

function missing(key: string): ShardEntry {
  return { key, found: false, data: null, ttlMs: 0, version: 0 };
}

/**
 * A write from a wire entry; the value is copied out of the request buffer
 * so that it holds only its own bytes.
 */
export function toWrite(entry: ShardEntry): ShardWrite {
  if (!entry.data) {
    throw new InvalidArgumentError(`entry ${entry.key} has no data`);
  }
  return {
    key: entry.key,
    value: {
      typeUrl: entry.data.typeUrl,
      value: new Uint8Array(entry.data.value),
    },
    ttlMs: entry.ttlMs,
    version: entry.version === 0 ? undefined : entry.version,
  };
}
