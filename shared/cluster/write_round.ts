/**
 * {@linkcode writeRound}: one batch of writes to every replica of a shard,
 * so that a write acknowledged after another write of the same key wins,
 * whatever the clocks of the frontends that stamped them.
 *
 * Each replica answers every entry with the version it now holds. The
 * frontend moves its clock past every version it meets; an entry that some
 * replica holds a newer version of lost to a write this frontend had not
 * seen, so it is stamped again (above that version) and sent again to
 * every replica. An entry refused by some replicas (a value larger than a
 * smaller replica's budget) and applied by others is repaired: every
 * replica gets a newer tombstone, so they agree again, and the client
 * gets the refusal.
 *
 * @module
 */
import { GanacheError, UnavailableError } from "../wire/errors.ts";
import type { ShardWrite } from "../wire/shard.ts";
import type { HybridLogicalClock } from "./hlc.ts";
import { logger } from "../ops/log.ts";
import type {
  WriteEntry,
  WriteRequest,
  WriteResponse,
} from "./shard_messages.ts";

const log = logger("remote_shard");

/**
 * How many times an entry is stamped again. After that it lost to writes
 * made while it was being retried: concurrent writes, either of which may
 * win.
 */
export const MAX_ATTEMPTS = 4;
/** How long a delete's tombstone lasts on the replicas: longer than any join. */
export const TOMBSTONE_TTL_MS = 10 * 60_000;

/** Sends one `Write` call to one replica. */
export type WriteCall = (request: WriteRequest) => Promise<WriteResponse>;

/** One replica that writes go to. */
export interface WriteTarget {
  /** The replica's address, for logs. */
  name: string;
  /** Sends the call; rejects with the gRPC error. */
  write: WriteCall;
}

/** Options of {@linkcode writeRound}. */
export interface WriteRoundOptions {
  /** The shard's index, for messages. */
  shard: number;
  /** Stamps versions; learns every version met. */
  clock: HybridLogicalClock;
  /** Whether an error means the replica (not the request) failed. */
  isTransportFailure: (error: unknown) => boolean;
}

/** What became of one write. */
export type WriteOutcome = { existed: boolean } | GanacheError;

/**
 * Writes `writes` to `targets` until every entry is applied everywhere
 * (or refused, or lost to a concurrent write).
 *
 * @returns One outcome per write, in order.
 */
export async function writeRound(
  writes: readonly ShardWrite[],
  targets: readonly WriteTarget[],
  options: WriteRoundOptions,
): Promise<WriteOutcome[]> {
  const { clock } = options;
  const entries: WriteEntry[] = writes.map((write) => ({
    key: write.key,
    found: !write.tombstone,
    data: write.tombstone ? null : write.value,
    ttlMs: write.tombstone ? write.ttlMs || TOMBSTONE_TTL_MS : write.ttlMs,
    version: write.version ?? clock.next(),
    tombstone: write.tombstone === true,
  }));
  const outcomes: WriteOutcome[] = entries.map(() => ({ existed: false }));
  const existed = entries.map(() => false);
  const repairs: number[] = [];
  let pending = entries.map((_, i) => i);
  for (let attempt = 1; pending.length > 0; attempt++) {
    const request = { entries: pending.map((i) => entries[i]!) };
    const replies = await Promise.allSettled(
      targets.map((target) => target.write(request)),
    );
    const retry: number[] = [];
    pending.forEach((index, j) => {
      const entry = entries[index]!;
      let applied = 0, answered = 0, newest = 0;
      let refusal: GanacheError | undefined;
      for (const reply of replies) {
        if (reply.status === "rejected") {
          const error = reply.reason as { code?: number; details?: string };
          // A transport failure: the replica is out of rotation and heals;
          // FAILED_PRECONDITION: not a replica of this shard (yet).
          if (options.isTransportFailure(error) || error.code === 9) continue;
          refusal ??= new GanacheError(
            error.code ?? 2,
            error.details ?? String(error),
          );
          continue;
        }
        const result = reply.value.results[j];
        if (!result) continue;
        answered++;
        if (result.code !== 0) {
          refusal ??= new GanacheError(result.code, result.message);
          continue;
        }
        clock.observe(result.version);
        if (result.version > entry.version) {
          newest = Math.max(newest, result.version);
        } else {
          applied++;
          if (result.existed) existed[index] = true;
        }
      }
      if (refusal) {
        outcomes[index] = refusal;
        if (applied > 0 || newest > 0) repairs.push(index);
      } else if (answered === 0) {
        outcomes[index] = new UnavailableError(
          `shard ${options.shard} has no live replica to write to`,
        );
      } else if (newest > 0 && attempt < MAX_ATTEMPTS) {
        entry.version = clock.next();
        retry.push(index);
      } else {
        outcomes[index] = { existed: existed[index]! };
      }
    });
    pending = retry;
  }
  if (repairs.length > 0) await repair(repairs, entries, targets, options);
  return outcomes;
}

/**
 * Replicas disagree about entries some refused and others applied: a newer
 * tombstone on every replica makes them agree (the key is gone).
 */
async function repair(
  indices: number[],
  entries: readonly WriteEntry[],
  targets: readonly WriteTarget[],
  options: WriteRoundOptions,
): Promise<void> {
  const tombstones: WriteEntry[] = indices.map((i) => ({
    key: entries[i]!.key,
    found: false,
    data: null,
    ttlMs: TOMBSTONE_TTL_MS,
    version: options.clock.next(),
    tombstone: true,
  }));
  log.warn(
    `shard ${options.shard}: ${indices.length} writes refused by some replicas and applied by others; deleting them everywhere so replicas agree`,
  );
  await Promise.allSettled(
    targets.map((target) => target.write({ entries: tombstones })),
  );
}
