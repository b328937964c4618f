/**
 * The handlers of the cache operations on a shard replica (`Apply`,
 * `Replicate`, `Flush`, `Recent` of `ganache.shard.Shard`; see
 * `apply_decider.ts` for how a replica decides), and the connections the
 * deciding replica forwards its results over: one `Replicate` call at a
 * time to each peer, so that a peer takes decisions in the order they were
 * made, with the decisions made meanwhile batched into the next call.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { peerCommonName, type ServerSurfaceCall } from "../frontend/acl.ts";
import { tlsChannelOptions } from "../frontend/tls.ts";
import { unaryHandler } from "../frontend/unary.ts";
import { logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { ShardStore } from "../store/store.ts";
import { unaryCall } from "../wire/call.ts";
import { AbortedError, PermissionDeniedError } from "../wire/errors.ts";
import { checkBatch, checkNamespace, MAX_BATCH_ITEMS } from "../wire/limits.ts";
import { SHARD_SERVICE } from "../wire/services.ts";
import { Decider } from "./apply_decider.ts";
import type {
  ApplyRequest,
  ApplyResponse,
  FlushRequest,
  FlushResponse,
  Forward,
  Forwarded,
  RecentResponse,
  ReplicateRequest,
  ReplicateResponse,
} from "./apply_messages.ts";
import { PipelinedBatcher } from "./pipelined_batcher.ts";
import type { ReplicaMemory } from "./replica_memory.ts";
import { isTransportFailure } from "./replica_failures.ts";
import {
  checkOwnership,
  FailedPreconditionError,
  type Ownership,
} from "./shard_service.ts";

const log = logger("apply");

/** How long a replica that forwarded decisions here counts as deciding, in ms. */
const DECIDING_MS = 2000;
/** How long an answer to "can it decide?" is trusted, in ms. */
const ANSWERS_MS = 500;
/** The deadline of that check, in ms. */
const PROBE_TIMEOUT_MS = 500;

/** Options of {@linkcode ApplyService}. */
export interface ApplyServiceOptions {
  /** The replica's store. */
  store: ShardStore;
  /** Its recent results, flushes and clock. */
  memory: ReplicaMemory;
  /** Certificate common names allowed to call (frontends and peer shards). */
  peers: readonly string[];
  /** Credentials presenting this replica's certificate to its peers. */
  credentials: grpc.ChannelCredentials;
  /** This replica's registered address (not forwarded to). */
  self: () => string;
  /** The shard it serves, once claimed. */
  ownership: () => Ownership | undefined;
  /** Whether it is ready (only a ready replica decides). */
  readable: () => boolean;
  /** Counts requests and their latency. */
  metrics?: Metrics;
}

/** One forward in a batch to a peer, with how long it may wait. */
interface Outgoing {
  forward: Forward;
  timeoutMs: number;
}

/** A peer the decider forwards to. */
interface Peer {
  client: grpc.Client;
  forwards: PipelinedBatcher<Outgoing, Forwarded | undefined>;
}

/** The cache operations' handlers, and the decider's connections to peers. */
export class ApplyService {
  readonly #options: ApplyServiceOptions;
  readonly #decider: Decider;
  readonly #peers = new Map<string, Peer>();
  /** Replicas that forwarded decisions here, and when they last did. */
  readonly #deciders = new Map<string, number>();
  /** Whether a replica answers, by address, and since when that is known. */
  readonly #answers = new Map<
    string,
    { answers: Promise<boolean>; at: number }
  >();

  /** @param options The store, memory, peers and state of the replica. */
  constructor(options: ApplyServiceOptions) {
    this.#options = options;
    this.#decider = new Decider(options.store, options.memory);
  }

  /** The handlers, to add to the `ganache.shard.Shard` service's. */
  implementation(): grpc.UntypedServiceImplementation {
    const { store, memory } = this.#options;
    const peers = new Set(this.#options.peers);
    const admit = (call: ServerSurfaceCall) => {
      const name = peerCommonName(call);
      if (name === undefined || !peers.has(name)) {
        throw new PermissionDeniedError(
          `certificate "${name ?? "(none)"}" may not call a shard`,
        );
      }
    };
    const unary = <Req, Res>(
      method: string,
      handle: (request: Req) => Res | Promise<Res>,
    ) =>
      unaryHandler<Req, Res>({
        service: "ganache.shard.Shard",
        method,
        metrics: this.#options.metrics,
        admit,
        handle: (call) => handle(call.request),
      });
    return {
      Apply: unary<ApplyRequest, ApplyResponse>("Apply", (request) => {
        checkBatch(request.operations.length);
        this.#checkOwner(request.operations.map((op) => op.key));
        if (!this.#options.readable()) {
          throw new FailedPreconditionError(
            "this replica is not ready: it decides nothing",
          );
        }
        // No operations: a peer asks whether this replica can decide.
        if (request.operations.length === 0) {
          return { results: [], unreached: [] };
        }
        if (this.#deciders.size === 0) return this.#apply(request);
        return this.#yieldToEarlier().then(() => this.#apply(request));
      }),
      Replicate: unary<ReplicateRequest, ReplicateResponse>(
        "Replicate",
        ({ forwards, decider }) => {
          checkBatch(forwards.length);
          if (decider && decider !== this.#options.self()) {
            this.#deciders.set(decider, Date.now());
          }
          this.#checkOwner(forwards.map((f) => f.entry?.key ?? ""));
          return {
            results: forwards.map((f) => this.#decider.replicate(f)),
          };
        },
      ),
      Flush: unary<FlushRequest, FlushResponse>(
        "Flush",
        ({ namespace, version }) => {
          checkNamespace(namespace);
          this.#checkOwner([]);
          const highest = memory.highest;
          memory.flush(namespace, version);
          store.flushNamespace(namespace, version);
          return { highest };
        },
      ),
      Recent: unary<object, RecentResponse>("Recent", () => ({
        flushes: memory.flushes(),
        results: memory.results(),
      })),
    };
  }

  /** Closes the connections to peers. */
  close(): void {
    for (const peer of this.#peers.values()) peer.client.close();
    this.#peers.clear();
  }

  async #apply(request: ApplyRequest): Promise<ApplyResponse> {
    const self = this.#options.self();
    const targets = request.replicas.filter((address) => address !== self);
    const timeoutMs = request.forwardTimeoutMs || 1000;
    const unreached = new Set<string>();
    const send = (forward: Forward) =>
      Promise.all(targets.map(async (address) => {
        const reply = await this.#peer(address).forwards.add({
          forward,
          timeoutMs,
        });
        if (reply === undefined) unreached.add(address);
        return reply;
      }));
    const results = await Promise.all(
      request.operations.map((op) => this.#decider.run(op, send)),
    );
    return { results, unreached: [...unreached] };
  }

  /**
   * Refuses to decide (ABORTED) while a replica before this one by address
   * decides for the shard and can decide still (it answers an `Apply` of no
   * operations: it is ready and this replica reaches it): frontends that disagree
   * about which replica is alive (one cannot reach it) do not get two
   * deciders for long, and a frontend retries its operations after a
   * failover here only once the earlier decider is gone.
   */
  async #yieldToEarlier(): Promise<void> {
    const self = this.#options.self();
    for (const [address, at] of this.#deciders) {
      if (Date.now() - at > DECIDING_MS) {
        this.#deciders.delete(address);
      } else if (address < self && await this.#answersNow(address)) {
        throw new AbortedError(`replica ${address} decides for this shard`);
      }
    }
  }

  /** Whether the replica at `address` can decide (checked at most every {@linkcode ANSWERS_MS}). */
  #answersNow(address: string): Promise<boolean> {
    const known = this.#answers.get(address);
    if (known !== undefined && Date.now() - known.at < ANSWERS_MS) {
      return known.answers;
    }
    const answers = unaryCall(
      this.#peer(address).client,
      "Apply",
      { operations: [], replicas: [] },
      { deadline: Date.now() + PROBE_TIMEOUT_MS },
    ).then(() => true, () => false);
    this.#answers.set(address, { answers, at: Date.now() });
    return answers;
  }

  #peer(address: string): Peer {
    const peer = this.#peers.get(address);
    if (peer !== undefined) return peer;
    const client = new SHARD_CLIENT(address, this.#options.credentials, {
      ...tlsChannelOptions(address),
      "grpc.use_local_subchannel_pool": 1,
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
    });
    const created: Peer = {
      client,
      // One call at a time: the peer takes decisions in order.
      forwards: new PipelinedBatcher(
        (batch) => this.#replicate(address, created, batch),
        MAX_BATCH_ITEMS,
        1,
      ),
    };
    this.#peers.set(address, created);
    return created;
  }

  async #replicate(
    address: string,
    peer: Peer,
    batch: Outgoing[],
  ): Promise<(Forwarded | undefined)[]> {
    const timeoutMs = Math.max(...batch.map((item) => item.timeoutMs));
    try {
      const { results } = await unaryCall<ReplicateResponse>(
        peer.client,
        "Replicate",
        {
          forwards: batch.map((item) => item.forward),
          decider: this.#options.self(),
        },
        { deadline: Date.now() + timeoutMs },
      );
      return batch.map((_, i) => results[i]);
    } catch (error) {
      log.warn(
        `could not forward ${batch.length} results to ${address}: ${
          (error as Error).message
        }`,
      );
      if (isTransportFailure(error) && this.#peers.get(address) === peer) {
        // A fresh connection next time: the peer may be a new process.
        peer.client.close();
        this.#peers.delete(address);
      }
      return batch.map(() => undefined);
    }
  }

  /** Refuses keys of other shards, and everything before a shard is claimed. */
  #checkOwner(keys: string[]): void {
    checkOwnership(this.#options.ownership(), keys);
  }
}

const SHARD_CLIENT = grpc.makeGenericClientConstructor(SHARD_SERVICE, "Shard");
