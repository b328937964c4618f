/**
 * A cluster shard's Stats from its replicas' answers: hits, misses,
 * evictions and expirations summed over every replica process the frontend
 * has seen (so they never decrease, even when a replica leaves), items and
 * bytes of the fullest ready replica, and every replica with its own
 * counters and state. A replica registered under this shard that says it
 * serves another is left out.
 *
 * @module
 */
import { UnavailableError } from "../wire/errors.ts";
import type { ShardCounters } from "../wire/messages.ts";
import type { ReplicaCounters } from "./replica_counters.ts";
import type { ReplicaStats } from "./shard_messages.ts";

/** What a replica's `Stats` answers: its counters and the shard it serves. */
export type StatsAnswer = ShardCounters & {
  /** Whether it has claimed a shard. */
  claimed: boolean;
  /** The shard it serves. */
  shard: number;
};

/** One replica as the frontend sees it, with its answer if it gave one. */
export interface ReplicaAnswer {
  /** The replica process (address and start time): whose counters these are. */
  process: string;
  /** Its address. */
  address: string;
  /** Its state as this frontend sees it. */
  state: string;
  /** Its `Stats`, or `undefined` when it did not answer. */
  answer: StatsAnswer | undefined;
}

const ZERO = {
  items: 0,
  bytes: 0,
  capacityBytes: 0,
  hits: 0,
  misses: 0,
  evictions: 0,
  expirations: 0,
} as ShardCounters;

/**
 * The shard's counters and replica list.
 *
 * @throws {UnavailableError} when the shard has no replica to report.
 */
export function summarize(
  shard: number,
  replicas: ReplicaAnswer[],
  counters: ReplicaCounters,
): ShardCounters & { replicas: ReplicaStats[] } {
  const listed: ReplicaStats[] = [];
  for (const { process, address, state, answer } of replicas) {
    if (answer?.claimed && answer.shard !== shard) continue; // serves another
    if (answer) counters.record(process, answer);
    const { claimed: _, shard: __, ...own } = (answer ??
      counters.last(process) ?? ZERO) as StatsAnswer;
    listed.push({ ...own, address, state });
  }
  const fullest = listed.filter((r) => r.state === "ready")
    .sort((a, b) => b.items - a.items)[0] ?? listed[0];
  if (!fullest) throw new UnavailableError(`shard ${shard} has no replica`);
  const { address: _, state: __, ...gauges } = fullest;
  return {
    ...gauges,
    ...counters.totals(),
    replicas: listed.sort((a, b) => a.address.localeCompare(b.address)),
  };
}
