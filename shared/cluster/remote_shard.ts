/**
 * {@linkcode RemoteShard}: a {@linkcode Shard} whose replicas are remote
 * shard processes, reached over the internal `ganache.shard.Shard` protocol.
 *
 * Writes go to every live replica with a version from the frontend's clock
 * (replicas keep the newest); reads go to one ready replica, in rotation,
 * and fail over to the next on a transport failure. A replica that fails a
 * call is out of rotation until it registers again.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Batcher } from "../shards/batcher.ts";
import { GanacheError, UnavailableError } from "../wire/errors.ts";
import type { HybridLogicalClock } from "./hlc.ts";
import { MAX_BATCH_ITEMS } from "../wire/limits.ts";
import { logger } from "../ops/log.ts";
import type { Shard, ShardWrite } from "../wire/shard.ts";
import type {
  AnyValue,
  EntriesResponse,
  ShardCounters,
  ShardDeleteResponse,
  ShardEntry,
} from "../wire/messages.ts";
import { tlsChannelOptions } from "../frontend/tls.ts";
import {
  currentTraceparent,
  inSpan,
  TRACEPARENT,
  TRACING,
} from "../ops/tracing.ts";
import { SHARD_SERVICE } from "../wire/services.ts";

const log = logger("remote_shard");

const ShardClient = grpc.makeGenericClientConstructor(SHARD_SERVICE, "Shard");

/** Status codes that mean the replica, not the request, failed. */
const REPLICA_FAILURES = new Set<number>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.CANCELLED,
  grpc.status.UNKNOWN,
  grpc.status.INTERNAL,
]);

/** A replica as the registry describes it. */
export interface ReplicaInfo {
  /** `host:port` the replica serves on. */
  address: string;
  /** `joining` replicas take writes but not reads; `ready` ones take both. */
  state: "joining" | "ready";
  /** Changes whenever the replica registers anew (e.g. a restart). */
  registration: string;
}

/** Options for {@linkcode RemoteShard}. */
export interface RemoteShardOptions {
  /** The shard's index, for messages. */
  index: number;
  /** TLS credentials presenting the frontend's certificate. */
  credentials: grpc.ChannelCredentials;
  /** Deadline of each call to a replica, in ms. */
  timeoutMs: number;
  /** Issues write versions. */
  clock: HybridLogicalClock;
  /** Called when a read moves on to another replica after one failed. */
  onFailover?: () => void;
}

interface Replica extends ReplicaInfo {
  client: grpc.Client;
  /** Failed a call since it last registered. */
  down: boolean;
}

type Method = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => void;

/** A shard served by remote replicas. */
export class RemoteShard implements Shard {
  readonly #options: RemoteShardOptions;
  readonly #replicas = new Map<string, Replica>();
  readonly #gets = new Batcher<string, AnyValue | undefined>(
    (keys) => this.getMany(keys),
    MAX_BATCH_ITEMS,
  );
  #turn = 0;

  /** @param options Index, credentials, deadline and clock. */
  constructor(options: RemoteShardOptions) {
    this.#options = options;
  }

  /** The replicas' addresses, e.g. `remote:10.0.0.1:40011,10.0.0.2:40011`. */
  get location(): string {
    return `remote:${[...this.#replicas.keys()].sort().join(",")}`;
  }

  /** Remote shards are restarted by their operator, not by the frontend. */
  readonly restarts = 0;

  /** Whether any replica can serve reads. */
  get readable(): boolean {
    return this.#readers().length > 0;
  }

  /**
   * Takes the registry's current list of replicas: new ones are connected,
   * re-registered ones get a fresh connection and rejoin the rotation,
   * vanished ones are closed.
   */
  update(replicas: readonly ReplicaInfo[]): void {
    const seen = new Set<string>();
    for (const info of replicas) {
      seen.add(info.address);
      const known = this.#replicas.get(info.address);
      if (known && known.registration === info.registration) {
        if (known.state !== info.state) {
          known.state = info.state;
          log.info(
            `shard ${this.#options.index}: replica ${info.address} is ${info.state}`,
          );
        }
        continue;
      }
      known?.client.close();
      this.#replicas.set(info.address, {
        ...info,
        client: this.#connect(info.address),
        down: false,
      });
      log.info(
        `shard ${this.#options.index}: replica ${info.address} ${
          known ? "re-registered" : "joined"
        } (${info.state})`,
      );
    }
    for (const [address, replica] of this.#replicas) {
      if (seen.has(address)) continue;
      replica.client.close();
      this.#replicas.delete(address);
      log.info(`shard ${this.#options.index}: replica ${address} left`);
    }
  }

  /**
   * See {@linkcode Shard.get}. Gets made in the same turn of the event loop
   * travel to the replica as one call.
   */
  get(key: string): Promise<AnyValue | undefined> {
    return this.#gets.add(key);
  }

  /** See {@linkcode Shard.getMany}. */
  async getMany(keys: string[]): Promise<(AnyValue | undefined)[]> {
    const { entries } = await this.#read<EntriesResponse>("Get", { keys });
    return entries.map((e) => e.found && e.data ? e.data : undefined);
  }

  /** See {@linkcode Shard.set}. */
  set(write: ShardWrite): Promise<void> {
    return this.setMany([write]);
  }

  /** See {@linkcode Shard.setMany}. */
  async setMany(writes: ShardWrite[]): Promise<void> {
    const entries: ShardEntry[] = writes.map((write) => ({
      key: write.key,
      found: true,
      data: write.value,
      ttlMs: write.ttlMs,
      version: write.version ?? this.#options.clock.next(),
    }));
    await this.#writeAll("Set", { entries });
  }

  /** See {@linkcode Shard.delete}. */
  async delete(key: string): Promise<boolean> {
    const responses = await this.#writeAll<ShardDeleteResponse>("Delete", {
      keys: [key],
    });
    return responses.some((r) => r.existed[0] === true);
  }

  /** See {@linkcode Shard.ttl}. */
  async ttl(key: string): Promise<number | undefined> {
    const { entries } = await this.#read<EntriesResponse>("TTL", {
      keys: [key],
    });
    const entry = entries[0];
    return entry?.found ? entry.ttlMs : undefined;
  }

  /** See {@linkcode Shard.stats}: one ready replica's counters. */
  stats(): Promise<ShardCounters> {
    return this.#read<ShardCounters>("Stats", {});
  }

  /** Closes every replica's connection. */
  close(): Promise<void> {
    for (const replica of this.#replicas.values()) replica.client.close();
    this.#replicas.clear();
    return Promise.resolve();
  }

  #connect(address: string): grpc.Client {
    return new ShardClient(address, this.#options.credentials, {
      ...tlsChannelOptions(address),
      // A connection of its own, so that a replaced replica gets a new one.
      "grpc.use_local_subchannel_pool": 1,
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
    });
  }

  #readers(): Replica[] {
    return [...this.#replicas.values()].filter((r) =>
      !r.down && r.state === "ready"
    );
  }

  /** Reads from one ready replica, failing over to the others in turn. */
  async #read<T>(method: string, request: unknown): Promise<T> {
    const readers = this.#readers();
    const start = this.#turn++;
    for (let i = 0; i < readers.length; i++) {
      const replica = readers[(start + i) % readers.length]!;
      if (replica.down) continue;
      try {
        return await this.#call<T>(replica, method, request);
      } catch (error) {
        if (!this.#failed(replica, error)) throw toGanacheError(error);
        if (i + 1 < readers.length) this.#options.onFailover?.();
      }
    }
    throw new UnavailableError(
      `shard ${this.#options.index} has no live replica`,
    );
  }

  /** Writes to every live replica; succeeds if at least one accepts. */
  async #writeAll<T>(method: string, request: unknown): Promise<T[]> {
    const targets = [...this.#replicas.values()].filter((r) => !r.down);
    const results = await Promise.allSettled(
      targets.map((replica) => this.#call<T>(replica, method, request)),
    );
    const accepted: T[] = [];
    let answer: unknown;
    results.forEach((result, i) => {
      if (result.status === "fulfilled") accepted.push(result.value);
      else if (!this.#failed(targets[i]!, result.reason)) {
        answer ??= result.reason;
      }
    });
    if (answer !== undefined) throw toGanacheError(answer);
    if (accepted.length === 0) {
      throw new UnavailableError(
        `shard ${this.#options.index} has no live replica to write to`,
      );
    }
    return accepted;
  }

  /**
   * Takes a replica out of rotation if the error says it failed; tells
   * whether it did (as opposed to the request being refused).
   */
  #failed(replica: Replica, error: unknown): boolean {
    const code = (error as Partial<grpc.ServiceError>).code;
    if (code !== undefined && !REPLICA_FAILURES.has(code)) return false;
    if (!replica.down) {
      replica.down = true;
      log.warn(
        `shard ${this.#options.index}: replica ${replica.address} failed (${
          (error as Error).message
        }); out of rotation until it registers again`,
      );
    }
    return true;
  }

  #call<T>(replica: Replica, method: string, request: unknown): Promise<T> {
    const fn = (replica.client as unknown as Record<string, Method>)[method]!;
    const send = () =>
      new Promise<T>((resolve, reject) => {
        const metadata = new grpc.Metadata();
        const traceparent = currentTraceparent();
        if (traceparent) metadata.set(TRACEPARENT, traceparent);
        fn.call(
          replica.client,
          request,
          metadata,
          { deadline: Date.now() + this.#options.timeoutMs },
          (error, response) => error ? reject(error) : resolve(response as T),
        );
      });
    return TRACING
      ? inSpan(`ganache.shard.Shard/${method}`, "client", undefined, send)
      : send();
  }
}

function toGanacheError(error: unknown): GanacheError {
  const { code, details } = error as Partial<grpc.ServiceError>;
  return new GanacheError(
    code ?? grpc.status.UNKNOWN,
    details ?? String(error),
  );
}
