/**
 * How a shard replica fills its store from its peers: when it joins, and
 * again when it heals. It copies the shard's contents (values and
 * tombstones, streamed by `Dump`) from a ready peer, and keeps whatever
 * writes arrive meanwhile (an older copy never replaces a newer value).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type { Etcd3 } from "etcd3";
import { readRegistrations } from "./registry.ts";
import { toWrite } from "./shard_service.ts";
import { copyRecent } from "./recent_copy.ts";
import type { ReplicaMemory } from "./replica_memory.ts";
import {
  clientCredentials,
  tlsChannelOptions,
  type TlsFiles,
} from "../frontend/tls.ts";
import { logger } from "../ops/log.ts";
import type { ShardStore } from "../store/store.ts";
import { streamCall } from "../wire/call.ts";
import type { EntriesResponse } from "../wire/messages.ts";
import { SHARD_SERVICE } from "../wire/services.ts";

const log = logger("shard");
/** The longest wait between two copy attempts, in ms. */
const MAX_COPY_RETRY_MS = 5000;

/**
 * Runs `task`; a call made while it runs gets a run that starts after it
 * (one for all such calls), so that every caller's writes are covered.
 */
export function coalesce(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const start = (): Promise<void> =>
    running = task().finally(() => running = undefined);
  return () => {
    if (!running) return start();
    return next ??= running.catch(() => {}).then(() => {
      next = undefined;
      return start();
    });
  };
}

/** Which shard to copy, and how. */
export interface CopyOptions {
  /** The shard number. */
  shard: number;
  /** The cluster's shard count. */
  shards: number;
  /** This replica's address (not a peer). */
  self: string;
  /** How long to wait before copying when there is a peer, in ms. */
  settleMs: number;
  /** Copying again (healing), rather than joining. */
  again: boolean;
  /**
   * The replica's recent flushes and results: the peer's are copied first
   * (`recent_copy.ts`), and it meets every version copied.
   */
  memory?: ReplicaMemory;
}

/**
 * Copies the shard's contents (values and tombstones) from a ready peer,
 * trying again until one copy succeeds; with no ready peer, this is the
 * shard's first replica and there is nothing to copy. Writes that arrive
 * meanwhile are kept: an older copy never replaces a newer value.
 */
export async function copyFromPeers(
  etcd: Etcd3,
  store: ShardStore,
  tls: TlsFiles,
  options: CopyOptions,
): Promise<void> {
  const { shard, shards, self } = options;
  let delay = 250;
  let settled = false;
  while (true) {
    const peers = (await readRegistrations(etcd, shards)).filter((r) =>
      r.shard === shard && r.state === "ready" && r.address !== self
    );
    if (peers.length === 0) {
      log.info(
        options.again
          ? `shard ${shard} has no other ready replica to copy from: keeping what this replica holds`
          : `shard ${shard} has no ready replica to copy from: this is its first replica, starting empty`,
      );
      return;
    }
    if (!settled && options.settleMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, options.settleMs));
      settled = true;
      continue;
    }
    const addresses = peers.map((p) => p.address);
    if (await copyFromPeer(store, tls, addresses, options.memory)) return;
    log.warn(
      `no peer of shard ${shard} could be copied from; trying again in ${delay} ms`,
    );
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, MAX_COPY_RETRY_MS);
  }
}

/** Copies from the first of `peers` that answers; tells whether one did. */
async function copyFromPeer(
  store: ShardStore,
  tls: TlsFiles,
  peers: string[],
  memory?: ReplicaMemory,
): Promise<boolean> {
  const Client = grpc.makeGenericClientConstructor(SHARD_SERVICE, "Shard");
  for (const peer of peers) {
    const client = new Client(peer, clientCredentials(tls), {
      ...tlsChannelOptions(peer),
      "grpc.use_local_subchannel_pool": 1,
      "grpc.max_receive_message_length": -1,
    });
    try {
      let copied = 0, skipped = 0;
      if (memory) await copyRecent(client, store, memory);
      await new Promise<void>((resolve, reject) => {
        const stream = streamCall<EntriesResponse>(client, "Dump", {});
        stream.on("data", ({ entries }: EntriesResponse) => {
          for (const entry of entries) {
            try {
              memory?.observe(entry.version);
              store.set(toWrite(entry));
              copied++;
            } catch {
              skipped++; // larger than this replica's whole budget
            }
          }
        });
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      log.info(
        `copied ${copied} entries from ${peer}${
          skipped ? ` (${skipped} too large for this replica)` : ""
        }`,
      );
      return true;
    } catch (error) {
      log.warn(`could not copy from ${peer}: ${(error as Error).message}`);
    } finally {
      client.close();
    }
  }
  return false;
}
