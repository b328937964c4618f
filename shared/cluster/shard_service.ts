/**
 * The handlers of the internal `ganache.shard.Shard` service: a remote
 * shard's store, reachable only by frontends and peer shards.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { peerCommonName, type ServerSurfaceCall } from "../frontend/acl.ts";
import {
  GanacheError,
  InvalidArgumentError,
  PermissionDeniedError,
  Status,
  toServiceError,
} from "../wire/errors.ts";
import { hashKey } from "../wire/cache_key.ts";
import { logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import { checkBatch } from "../wire/limits.ts";
import type { ShardWrite } from "../wire/shard.ts";
import type { ShardStore } from "../store/store.ts";
import { dumpChunks } from "./store_adapter.ts";
import { serveGetStream } from "./get_stream_service.ts";
import { unaryHandler } from "../frontend/unary.ts";
import type {
  AnyValue,
  EntriesResponse,
  KeysRequest,
  ShardEntry,
} from "../wire/messages.ts";
import type {
  WriteEntry,
  WriteRequest,
  WriteResponse,
  WriteResult,
} from "./shard_messages.ts";

const log = logger("shard_service");

/** How many entries one `Dump` message carries. */
const DUMP_CHUNK = 512;

/** `FAILED_PRECONDITION`: the request went to the wrong replica. */
export const FAILED_PRECONDITION = 9;

/** The replica cannot serve this request now, or ever (FAILED_PRECONDITION). */
export class FailedPreconditionError extends GanacheError {
  /** @param message Why, e.g. which shard owns the key. */
  constructor(message: string) {
    super(FAILED_PRECONDITION, message);
    this.name = "FailedPreconditionError";
  }
}

/** Which keys a replica serves: those that hash to `shard` of `shards`. */
export interface Ownership {
  /** The replica's shard number. */
  shard: number;
  /** The cluster's shard count. */
  shards: number;
}

/**
 * Refuses keys of other shards, and every call before the replica has a
 * shard (FAILED_PRECONDITION): the caller's view of the registry is wrong.
 *
 * @param owner What the replica serves; `undefined` before it has a shard.
 * @param keys The keys a call touches.
 */
export function checkOwnership(
  owner: Ownership | undefined,
  keys: Iterable<string>,
): void {
  if (owner === undefined) {
    throw new FailedPreconditionError("this replica has no shard yet");
  }
  for (const key of keys) {
    const shard = hashKey(key) % owner.shards;
    if (shard !== owner.shard) {
      throw new FailedPreconditionError(
        `key belongs to shard ${shard}; this replica serves shard ${owner.shard}`,
      );
    }
  }
}

/** Options for {@linkcode shardImplementation}. */
export interface ShardServiceOptions {
  /** The store the service reads and writes. */
  store: ShardStore;
  /** Certificate common names allowed to call (frontends and peer shards). */
  peers: readonly string[];
  /** Counts requests and their latency. */
  metrics?: Metrics;
  /**
   * The shard this replica serves, once it has claimed one; until then it
   * refuses reads and writes with FAILED_PRECONDITION.
   */
  ownership?: () => Ownership | undefined;
  /** Whether reads are served (not while the replica copies its shard). */
  readable?: () => boolean;
  /** Copies the shard again from a ready peer (see `Resync`). */
  resync?: () => Promise<void>;
  /**
   * Sees every versioned write before it applies, and answers the version
   * a write of its key must be above (a namespace flush; 0 for none): one
   * at or below it is not applied, and its result names that version, so
   * that the frontend stamps it again above (see `replica_memory.ts`).
   */
  writeFloor?: (key: string, version: number) => number;
}

/** Builds the `ganache.shard.Shard` handlers. */
export function shardImplementation(
  options: ShardServiceOptions,
): grpc.UntypedServiceImplementation {
  const { store } = options;
  const peers = new Set(options.peers);

  /** Refuses callers that are not frontends or shards. */
  const admit = (call: ServerSurfaceCall) => {
    const name = peerCommonName(call);
    if (name === undefined || !peers.has(name)) {
      // The caller is not told which names are allowed; the log says.
      log.debug(
        `refused certificate "${name ?? "(none)"}"; allowed: ${
          [...peers].join(", ")
        }`,
      );
      throw new PermissionDeniedError(
        `certificate "${name ?? "(none)"}" may not call a shard`,
      );
    }
  };

  function unary<Req, Res>(
    method: string,
    handler: (request: Req) => Res,
  ): grpc.handleUnaryCall<Req, Res> {
    return unaryHandler<Req, Res>({
      service: "ganache.shard.Shard",
      method,
      metrics: options.metrics,
      admit,
      handle: (call) => handler(call.request),
    });
  }

  /** Refuses keys of other shards, when ownership is checked at all. */
  const checkOwner = (keys: Iterable<string>) => {
    if (options.ownership) checkOwnership(options.ownership(), keys);
  };

  const checkReadable = (keys: string[]) => {
    checkBatch(keys.length);
    checkOwner(keys);
    if (options.readable && !options.readable()) {
      throw new FailedPreconditionError(
        "this replica is copying its shard and serves no reads yet",
      );
    }
  };

  /** A Get batch's entries, in request order. */
  const read = (keys: string[]): EntriesResponse => {
    checkReadable(keys);
    // Entries come back in request order, so without their keys: less
    // to encode here and to decode in the frontend.
    return {
      entries: keys.map((key) => {
        const value = store.get(key);
        return value === undefined
          ? MISSING
          : entry("", value, 0, value.version ?? 0);
      }),
    };
  };

  const write = (entry: WriteEntry): WriteResult => {
    try {
      const floor = options.writeFloor?.(entry.key, entry.version) ?? 0;
      if (entry.version !== 0 && entry.version <= floor) {
        return { code: Status.OK, message: "", version: floor, existed: false };
      }
      const write = toWrite(entry);
      const existed = write.tombstone === true &&
        store.ttl(write.key) !== undefined;
      const version = store.set(write);
      return { code: Status.OK, message: "", version, existed };
    } catch (error) {
      const { code, details } = toServiceError(error);
      return { code, message: details, version: 0, existed: false };
    }
  };

  return {
    Get: unary<KeysRequest, EntriesResponse>("Get", ({ keys }) => read(keys)),

    GetStream: (call: grpc.ServerDuplexStream<KeysRequest, EntriesResponse>) =>
      serveGetStream(call, { admit, read, metrics: options.metrics }),

    Write: unary<WriteRequest, WriteResponse>("Write", ({ entries }) => {
      checkBatch(entries.length);
      checkOwner(entries.map((entry) => entry.key));
      return { results: entries.map(write) };
    }),

    TTL: unary<KeysRequest, EntriesResponse>("TTL", ({ keys }) => {
      checkReadable(keys);
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
      const owner = options.ownership?.();
      return {
        ...store.stats(),
        claimed: owner !== undefined,
        shard: owner?.shard ?? 0,
      };
    }),

    Dump: (call: grpc.ServerWritableStream<object, EntriesResponse>) => {
      try {
        admit(call);
      } catch (error) {
        call.destroy(Object.assign(new Error(), toServiceError(error)));
        return;
      }
      dump(store, call).catch((error) =>
        call.destroy(Object.assign(new Error(), toServiceError(error)))
      );
    },

    Resync: unaryHandler<object, object>({
      service: "ganache.shard.Shard",
      method: "Resync",
      metrics: options.metrics,
      admit,
      handle: async () => {
        await options.resync?.();
        return {};
      },
    }),
  };
}

/**
 * Streams the store to a joining peer in chunks, waiting for the stream to
 * drain whenever grpc-js says its buffer is full and yielding to the event
 * loop between chunks, so that a join neither buffers the whole store nor
 * stops this replica from serving.
 */
async function dump(
  store: ShardStore,
  call: grpc.ServerWritableStream<object, EntriesResponse>,
): Promise<void> {
  let cancelled = false;
  call.on("cancelled", () => cancelled = true);
  for (const writes of dumpChunks(store, DUMP_CHUNK)) {
    if (cancelled) return;
    const entries = writes.map((write): ShardEntry & WriteEntry => ({
      ...entry(write.key, write.value, write.ttlMs, write.version ?? 0),
      tombstone: write.tombstone === true,
    }));
    if (!call.write({ entries })) {
      await new Promise((resolve) => call.once("drain", resolve));
    } else {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  call.end();
}

const NO_VALUE: AnyValue = { typeUrl: "", value: new Uint8Array(0) };

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

const MISSING: ShardEntry = missing("");

function missing(key: string): ShardEntry {
  return { key, found: false, data: null, ttlMs: 0, version: 0 };
}

/**
 * A write from a wire entry; the value is copied out of the request buffer
 * so that it holds only its own bytes.
 */
export function toWrite(entry: ShardEntry): ShardWrite {
  if ((entry as Partial<WriteEntry>).tombstone) {
    return {
      key: entry.key,
      value: NO_VALUE,
      ttlMs: entry.ttlMs,
      version: entry.version === 0 ? undefined : entry.version,
      tombstone: true,
    };
  }
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
    ...((entry as Partial<WriteEntry>).tombstone ? { tombstone: true } : {}),
  };
}
