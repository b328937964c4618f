/**
 * A replica as a frontend holds it: what the registry says of it, its
 * connection and its Get stream, how it is doing; and the one way a
 * frontend calls it.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { tlsChannelOptions } from "../frontend/tls.ts";
import {
  currentTraceparent,
  inSpan,
  TRACEPARENT,
  TRACING,
} from "../ops/tracing.ts";
import { unaryCall } from "../wire/call.ts";
import { GetStream } from "./get_stream.ts";
import type { Health } from "./replica_healing.ts";
import { ShardClient } from "./shard_codec.ts";

/** A replica as the registry describes it. */
export interface ReplicaInfo {
  /** `host:port` the replica serves on. */
  address: string;
  /**
   * `joining` and `healing` replicas take writes but not reads; `ready`
   * ones take both.
   */
  state: "joining" | "healing" | "ready";
  /** Changes whenever the replica registers anew (e.g. a restart). */
  registration: string;
  /** When the replica's process started: one process's counters only grow. */
  startedAt: string;
}

/** How this frontend sees a replica. */
export interface Replica extends ReplicaInfo {
  /** Its connection. */
  client: grpc.Client;
  /** Its Gets' open stream (when tracing is off). */
  reads: GetStream;
  /** `down` after a transport failure; `healing` while it copies again. */
  health: Health;
  /** Reads skip it until then (it refused a read with FAILED_PRECONDITION). */
  refusedUntil: number;
}

/**
 * Connects to a replica (a connection of its own, so that a replaced
 * replica gets a new one); it starts in rotation.
 */
export function connectReplica(
  info: ReplicaInfo,
  credentials: grpc.ChannelCredentials,
): Replica {
  const client = new ShardClient(info.address, credentials, {
    ...tlsChannelOptions(info.address),
    "grpc.use_local_subchannel_pool": 1,
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
  });
  return {
    ...info,
    client,
    reads: new GetStream(client),
    health: "up",
    refusedUntil: 0,
  };
}

/** Closes a replica's stream and connection. */
export function closeReplica(replica: Replica): void {
  replica.reads.close();
  replica.client.close();
}

/**
 * Calls `method` of a replica, in a client span with its traceparent when
 * tracing is on. Untraced Gets travel on the replica's open stream
 * (`get_stream.ts`); traced ones as unary calls, each its own span.
 *
 * @returns Rejects with the grpc-js `ServiceError` (or its like).
 */
export function callReplica<T>(
  replica: Replica,
  method: string,
  request: unknown,
  timeoutMs: number,
): Promise<T> {
  if (method === "Get" && !TRACING) {
    const { keys } = request as { keys: string[] };
    return replica.reads.get(keys, timeoutMs) as unknown as Promise<T>;
  }
  const send = () => {
    const metadata = new grpc.Metadata();
    const traceparent = currentTraceparent();
    if (traceparent) metadata.set(TRACEPARENT, traceparent);
    return unaryCall<T>(replica.client, method, request, {
      metadata,
      deadline: Date.now() + timeoutMs,
    });
  };
  return TRACING
    ? inSpan(`ganache.shard.Shard/${method}`, "client", undefined, send)
    : send();
}
