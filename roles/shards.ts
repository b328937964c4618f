/**
 * The `shards` role: prints the cluster's shard map for operators.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { connectEtcd, type EtcdOptions } from "../shared/cluster/etcd.ts";
import { ETCD_FLAGS, etcdOptions } from "../shared/cluster/etcd_flags.ts";
import {
  clusterShardCount,
  readRegistrations,
} from "../shared/cluster/registry.ts";
import type { FlagValues, RoleSpec } from "../shared/flags.ts";
import {
  clientCredentials,
  readTlsFiles,
  tlsChannelOptions,
} from "../shared/frontend/tls.ts";
import { unaryCall } from "../shared/wire/call.ts";
import type { ShardCounters } from "../shared/wire/messages.ts";
import { SHARD_SERVICE } from "../shared/wire/services.ts";

/** How long to wait for each replica's counters, in ms. */
const STATS_TIMEOUT_MS = 2000;

/** What `shards` takes on the command line. */
export const SPEC: RoleSpec = {
  usage: "shards --etcd URLS [flags]",
  summary:
    "Print the cluster's shard map: shard, replicas, address, age, items, bytes.",
  positionals: [],
  flags: {
    ...ETCD_FLAGS,
    certs: {
      type: "string",
      default: "certs",
      value: "DIR",
      help: "ca.crt, cfe.crt, cfe.key (to ask each replica for its counters)",
    },
  },
};

/** Options of the `shards` role. */
export interface ShardsOptions {
  /** Where etcd is. */
  etcd: EtcdOptions;
  /** Where `ca.crt`, `cfe.crt` and `cfe.key` are. */
  certs: string;
}

/**
 * The options of `shards` from its parsed {@linkcode SPEC} flags.
 *
 * @throws {UsageError} without `--etcd`.
 */
export function parseOptions(values: FlagValues): ShardsOptions {
  return { etcd: etcdOptions(values), certs: values.text("certs")! };
}

/** Prints one line per replica: shard, address, state, age, items, bytes. */
export async function run(options: ShardsOptions): Promise<number> {
  const etcd = await connectEtcd(options.etcd);
  try {
    const count = await clusterShardCount(etcd, undefined);
    const registered = (await readRegistrations(etcd, count)).sort((a, b) =>
      a.shard - b.shard || a.address.localeCompare(b.address)
    );
    const credentials = clientCredentials(
      await readTlsFiles(options.certs, "cfe"),
    );
    const Client = grpc.makeGenericClientConstructor(SHARD_SERVICE, "Shard");
    const rows = await Promise.all(registered.map(async (r) => {
      const client = new Client(
        r.address,
        credentials,
        tlsChannelOptions(r.address),
      );
      const stats = await unaryCall<ShardCounters>(client, "Stats", {}, {
        deadline: Date.now() + STATS_TIMEOUT_MS,
      }).catch(() => undefined);
      client.close();
      return [
        String(r.shard),
        r.address,
        r.state,
        age(Date.parse(r.startedAt)),
        stats ? String(stats.items) : "unreachable",
        stats ? String(stats.bytes) : "",
      ];
    }));
    const replicas = new Array<number>(count).fill(0);
    for (const r of registered) if (r.shard < count) replicas[r.shard]!++;
    const empty = replicas.flatMap((n, shard) =>
      n === 0 ? [String(shard)] : []
    );
    console.log(
      table([["shard", "replica", "state", "age", "items", "bytes"], ...rows]),
    );
    console.log(
      `\n${count} shards, ${registered.length} replicas${
        empty.length ? `; shards with no replica: ${empty.join(", ")}` : ""
      }`,
    );
    return empty.length ? 1 : 0;
  } finally {
    etcd.close();
  }
}

function age(since: number): string {
  const s = Math.max(0, Math.round((Date.now() - since) / 1000));
  return s < 60
    ? `${s}s`
    : s < 3600
    ? `${Math.floor(s / 60)}m${s % 60}s`
    : `${Math.floor(s / 3600)}h${Math.floor(s % 3600 / 60)}m`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) =>
    Math.max(...rows.map((row) => row[c]!.length))
  );
  return rows.map((row) =>
    row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()
  ).join("\n");
}
