/**
 * Write throughput with and without eviction, with the server as the
 * bottleneck, in one run: starts `deno task start --max-bytes 32MiB
 * --workers 2` (the task's own command line), measures how many keys fill
 * it, then alternates, round after round, between writing a key space that
 * fits (`--fits` × capacity: every write overwrites, nothing is evicted)
 * and one of `--churn` × capacity (every write adds a key and evicts the
 * least recently used), with Sets and with MultiSets of `--batch` keys.
 *
 * The client sends calls built beforehand over raw HTTP/2 with mutual TLS
 * (`raw_grpc_client.ts`: no protobuf encoding per call, about 2 µs of CPU a
 * Set), so that the server's main thread saturates. Client and server share
 * the machine's cores, so next to throughput it reports the server's CPU
 * per key written (from `/proc`: main thread, shard workers, other threads),
 * whose ratio depends far less on what else ran (a starved server batches
 * more per turn, so it still moves a little). Each round checks, from
 * `Stats`, that the window evicted nothing when the keys fit and evicted
 * when they did not.
 *
 * Run: deno run -A bench/eviction_load.ts [--rounds 3] [--duration 5]
 *      [--max-bytes 32MiB] [--workers 2] [--ops set,multiset] [--batch 100]
 *      [--fits 0.25] [--churn 2] [--connections 4] [--streams 100]
 *      [--multiset-streams 8] [--value-bytes 100] [--json]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { GanacheClient } from "../shared/client.ts";
import { ensureDevCerts } from "../shared/frontend/certs.ts";
import type { AnyValue } from "../shared/wire/messages.ts";
import { encodeBytes } from "../shared/wire/values.ts";
import { GanacheProcess } from "../tests/process_helpers.ts";
import {
  EVICTION_NAMESPACE,
  evictionKey,
  type KeyRing,
  keyRing,
} from "./eviction_rings.ts";
import { servingPort } from "./load_process.ts";
import {
  machineBusy,
  ownCpu,
  type ServerCpu,
  serverCpu,
} from "./process_cpu.ts";
import { type ClientPem, RawGrpcConnection } from "./raw_grpc_client.ts";
import {
  formatMeasurement,
  formatSummary,
  type Measurement,
} from "./eviction_report.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    "max-bytes": { type: "string", default: "32MiB" },
    workers: { type: "string", default: "2" },
    ops: { type: "string", default: "set,multiset" },
    batch: { type: "string", default: "100" },
    fits: { type: "string", default: "0.25" },
    churn: { type: "string", default: "2" },
    connections: { type: "string", default: "4" },
    streams: { type: "string", default: "100" },
    "multiset-streams": { type: "string", default: "8" },
    "value-bytes": { type: "string", default: "100" },
    json: { type: "boolean", default: false },
  },
});
const DURATION_MS = Number(flags.duration) * 1000;
/** Warm-up before each window: at least this long. */
const WARM_UP_MS = 1000;
/** Where each key range starts, so that no two rings share a key. */
const RANGES = { calibration: 90_000_000, fits: 0, churn: 10_000_000 };
const OP_RANGE = { set: 0, multiset: 40_000_000 };

type Op = keyof typeof OP_RANGE;
type Mode = Measurement["mode"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Evictions and items over all shards. */
async function totals(client: GanacheClient) {
  const { shards } = await client.stats();
  return {
    evictions: sum(shards.map((s) => s.evictions)),
    items: sum(shards.map((s) => s.items)),
  };
}

/**
 * Fills the server with distinct keys until it first evicts.
 *
 * @returns How many keys it holds then: its capacity in keys.
 */
async function calibrate(
  client: GanacheClient,
  value: AnyValue,
): Promise<number> {
  const ns = client.namespace(EVICTION_NAMESPACE);
  const batch = 1000;
  for (let i = RANGES.calibration;; i += batch) {
    await ns.multiSet(
      Array.from({ length: batch }, (_, j) => ({
        key: evictionKey(i + j),
        value,
      })),
    );
    const { evictions, items } = await totals(client);
    if (evictions > 0) return items;
  }
}

interface Sample {
  at: number;
  server: ServerCpu;
  own: number;
  busy: number;
  completed: number;
  failed: number;
}

function sample(pid: number, connections: RawGrpcConnection[]): Sample {
  return {
    at: performance.now(),
    server: serverCpu(pid),
    own: ownCpu(),
    busy: machineBusy(),
    completed: sum(connections.map((c) => c.completed)),
    failed: sum(connections.map((c) => c.failed)),
  };
}

/**
 * Runs one window of `ring`'s calls: warm-up (a whole pass over the keys
 * when they fit, so that every later write overwrites), then `--duration`
 * seconds measured, with `Stats` read on both sides of the window.
 *
 * @throws {Error} when a call failed, or the window's evictions contradict
 * its mode.
 */
async function measure(
  window: { op: Op; mode: Mode; round: number; keys: KeyRing },
  context: {
    pid: number;
    client: GanacheClient;
    streams: number;
    connections: RawGrpcConnection[];
  },
): Promise<Measurement> {
  const { op, mode, round, keys } = window;
  const { pid, client, streams, connections } = context;
  const started = sample(pid, connections);
  for (const c of connections) c.run(keys.ring, streams);
  const pass = keys.keys / keys.keysPerCall + connections.length * streams;
  await sleep(WARM_UP_MS);
  while (
    mode === "fits" &&
    sum(connections.map((c) => c.completed)) - started.completed < pass
  ) await sleep(50);
  const before = await totals(client);
  const open = sample(pid, connections);
  await sleep(DURATION_MS);
  const close = sample(pid, connections);
  const after = await totals(client);
  const done = sample(pid, connections);
  await Promise.all(connections.map((c) => c.stop()));
  const failed = sum(connections.map((c) => c.failed)) - started.failed;
  if (failed !== 0) throw new Error(`${op} ${mode}: ${failed} calls failed`);
  const evictions = after.evictions - before.evictions;
  if (mode === "fits" ? evictions !== 0 : evictions === 0) {
    throw new Error(
      `${op} ${mode}: ${evictions} evictions in the window (${before.items} → ${after.items} items)`,
    );
  }
  const seconds = (close.at - open.at) / 1000;
  const written = (close.completed - open.completed) * keys.keysPerCall;
  const cpu = (part: keyof ServerCpu) => close.server[part] - open.server[part];
  const server = cpu("main") + cpu("workers") + cpu("other");
  const client_ = close.own - open.own;
  const perKey = (s: number) => s * 1e6 / written;
  return {
    round,
    op,
    mode,
    keys: keys.keys,
    keysPerSecond: written / seconds,
    serverUsPerKey: perKey(server),
    mainUsPerKey: perKey(cpu("main")),
    workersUsPerKey: perKey(cpu("workers")),
    otherUsPerKey: perKey(cpu("other")),
    serverCores: server / seconds,
    mainBusy: cpu("main") / seconds,
    clientUsPerKey: perKey(client_),
    othersCores: (close.busy - open.busy - server - client_) / seconds,
    // `open` and `done` follow the two Stats reads at once.
    evictionsPerKey: evictions /
      ((done.completed - open.completed) * keys.keysPerCall),
    itemsAfter: after.items,
  };
}

const maxBytes = flags["max-bytes"]!;
const certs = await Deno.makeTempDir({ prefix: "ganache-eviction-" });
await ensureDevCerts(certs);
const server = new GanacheProcess(
  "start",
  ["--port", "0", "--certs", certs, "--max-bytes", maxBytes]
    .concat(["--workers", flags.workers!]),
  certs,
);
const connections: RawGrpcConnection[] = [];
let client: GanacheClient | undefined;
try {
  const port = await servingPort(server);
  client = await GanacheClient.connect({
    address: `127.0.0.1:${port}`,
    certs,
    timeoutMs: 60_000,
  });
  const value = encodeBytes(
    crypto.getRandomValues(new Uint8Array(Number(flags["value-bytes"]))),
  );
  const capacity = await calibrate(client, value);
  const ops = flags.ops!.split(",") as Op[];
  const rings = new Map<string, KeyRing>();
  for (const op of ops) {
    const batch = op === "set" ? 1 : Number(flags.batch);
    for (const mode of ["fits", "churn"] as const) {
      const keys = Math.round(capacity * Number(flags[mode]));
      rings.set(
        `${op} ${mode}`,
        keyRing({ first: RANGES[mode] + OP_RANGE[op], keys, batch, value }),
      );
    }
  }
  const pem: ClientPem = {
    ca: await Deno.readTextFile(`${certs}/ca.crt`),
    cert: await Deno.readTextFile(`${certs}/client.crt`),
    key: await Deno.readTextFile(`${certs}/client.key`),
  };
  for (let i = 0; i < Number(flags.connections); i++) {
    connections.push(await RawGrpcConnection.connect({ port, pem }));
  }
  const loadBefore = await Deno.readTextFile("/proc/loadavg");
  const measurements: Measurement[] = [];
  for (let round = 1; round <= Number(flags.rounds); round++) {
    // Alternate which mode goes first, so that drift favours neither.
    const modes: Mode[] = round % 2 === 1
      ? ["fits", "churn"]
      : ["churn", "fits"];
    for (const op of ops) {
      const streams = Number(
        op === "set" ? flags.streams : flags["multiset-streams"],
      );
      for (const mode of modes) {
        const m = await measure(
          { op, mode, round, keys: rings.get(`${op} ${mode}`)! },
          { pid: server.pid, client, streams, connections },
        );
        measurements.push(m);
        if (!flags.json) console.log(formatMeasurement(m));
      }
    }
  }
  const loadAfter = await Deno.readTextFile("/proc/loadavg");
  const setup = {
    maxBytes,
    workers: Number(flags.workers),
    capacityKeys: capacity,
    valueBytes: Number(flags["value-bytes"]),
    loadBefore: loadBefore.split(" ").slice(0, 3).join(" "),
    loadAfter: loadAfter.split(" ").slice(0, 3).join(" "),
  };
  if (flags.json) console.log(JSON.stringify({ setup, measurements }));
  else console.log(formatSummary(setup, measurements));
} finally {
  for (const c of connections) c.close();
  client?.close();
  await server.stop(10_000);
  await Deno.remove(certs, { recursive: true });
}
