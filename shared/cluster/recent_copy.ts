/**
 * {@linkcode copyRecent}: the first step of a join or heal copy, before
 * `Dump`. A replica that copies its shard takes the namespace flushes and
 * `Apply` results its peer remembers: a flush is applied to what the
 * replica holds already (so a heal does not keep keys the shard flushed
 * while the replica was away), and its version stays a floor for later
 * writes; the results let this replica answer a retried operation as the
 * peer would, should it become the decider.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { logger } from "../ops/log.ts";
import type { ShardStore } from "../store/store.ts";
import { unaryCall } from "../wire/call.ts";
import { Status } from "../wire/errors.ts";
import type { RecentResponse } from "./apply_messages.ts";
import type { ReplicaMemory } from "./replica_memory.ts";

const log = logger("shard");

/**
 * Takes the flushes and results `client`'s replica remembers into `store`
 * and `memory`. A peer without `Recent` (an older version) has none.
 *
 * @throws the call's error otherwise.
 */
export async function copyRecent(
  client: grpc.Client,
  store: ShardStore,
  memory: ReplicaMemory,
): Promise<void> {
  let recent: RecentResponse;
  try {
    recent = await unaryCall<RecentResponse>(client, "Recent", {});
  } catch (error) {
    if ((error as { code?: number }).code !== Status.UNIMPLEMENTED) throw error;
    log.warn("the peer remembers no flushes or results (no Recent method)");
    return;
  }
  for (const { namespace, version, ttlMs } of recent.flushes) {
    if (ttlMs <= 0) continue;
    memory.flush(namespace, version, ttlMs);
    store.flushNamespace(namespace, version);
  }
  for (const { requestId, result } of recent.results) {
    if (memory.result(requestId) === undefined) {
      memory.remember(requestId, result);
    }
  }
}
