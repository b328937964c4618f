/**
 * Memory under overfill, Ganache against Redis, in one run: for each budget
 * and value size, starts `deno task start --max-bytes B --workers 2` (the
 * task's own command line) and a `redis-server --maxmemory B
 * --maxmemory-policy allkeys-lru`, writes distinct keys to each until
 * `--fill` × the budget has been sent (MultiSet / pipelined MSET, 1,000
 * keys a batch), samples each server's RSS every 250 ms, and reports peak
 * RSS, idle RSS, peak above idle against the budget, keys held, and keys
 * held per MiB of RSS above idle.
 *
 * Run: deno run -A bench/memory_overfill.ts [--budgets 64MiB,256MiB]
 *      [--values 100,1024] [--fill 3] [--workers 2] [--json]
 *      [--batch 1000] [--in-flight 4] [--skip-redis]
 *      [--v8-flags FLAGS (in place of the task's own, to compare; "" for none)]
 *      [--gc-step SIZE|auto|off (start's --gc-step, to compare)]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseSize } from "../shared/flags.ts";
import { ensureDevCerts } from "../shared/frontend/certs.ts";
import { GanacheClient } from "../shared/client.ts";
import { ChildProcess, taskArgs } from "../tests/process_helpers.ts";
import { freePort, servingPort, withV8Flags } from "./load_process.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    budgets: { type: "string", default: "64MiB,256MiB" },
    values: { type: "string", default: "100,1024" },
    fill: { type: "string", default: "3" },
    workers: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
    "v8-flags": { type: "string" },
    "gc-step": { type: "string" },
    batch: { type: "string", default: "1000" },
    "skip-redis": { type: "boolean", default: false },
    "in-flight": { type: "string", default: "4" },
  },
});
const BATCH = Number(flags.batch);
const IN_FLIGHT = Number(flags["in-flight"]);
/** 14-character keys, as the measurement used. */
const keyOf = (i: number) => `k${String(i).padStart(13, "0")}`;

/** One server's figures for one budget and value size. */
interface Figures {
  server: string;
  budgetMiB: number;
  valueBytes: number;
  idleMiB: number;
  peakMiB: number;
  keysHeld: number;
  /** Keys written per second while filling. */
  writesPerSec: number;
}

function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Samples a process's RSS until stopped; `peak` is the highest seen. */
function sampler(pid: number) {
  const state = { idle: rssOf(pid), peak: 0 };
  state.peak = state.idle;
  const timer = setInterval(() => {
    state.peak = Math.max(state.peak, rssOf(pid));
  }, 250);
  return {
    state,
    stop() {
      clearInterval(timer);
      state.peak = Math.max(state.peak, rssOf(pid));
    },
  };
}

/** How many keys `fill` × `budget` bytes of key and value make. */
function keyCount(budget: number, valueBytes: number): number {
  return Math.ceil(Number(flags.fill) * budget / (14 + valueBytes));
}

/** Writes batches of keys: one batch a `[first key, count]` range. */
type BatchWriter = (batches: [number, number][]) => Promise<void>;

/**
 * Writes `fill` × the budget of distinct keys to a server, IN_FLIGHT
 * batches of BATCH keys at a time, sampling the server's RSS throughout.
 */
async function fillAndMeasure(
  server: string,
  pid: number,
  budget: number,
  valueBytes: number,
  write: BatchWriter,
): Promise<Omit<Figures, "keysHeld">> {
  const rss = sampler(pid);
  const total = keyCount(budget, valueBytes);
  const started = performance.now();
  try {
    for (let i = 0; i < total; i += BATCH * IN_FLIGHT) {
      const batches: [number, number][] = [];
      for (let part = 0; part < IN_FLIGHT; part++) {
        const start = i + part * BATCH;
        const count = Math.min(BATCH, total - start);
        if (count > 0) batches.push([start, count]);
      }
      await write(batches);
    }
  } finally {
    rss.stop();
  }
  return {
    server,
    budgetMiB: budget / 2 ** 20,
    valueBytes,
    idleMiB: rss.state.idle / 2 ** 20,
    peakMiB: rss.state.peak / 2 ** 20,
    writesPerSec: total * 1000 / (performance.now() - started),
  };
}

async function ganache(budget: number, valueBytes: number): Promise<Figures> {
  const certs = await Deno.makeTempDir({ prefix: "ganache-memory-" });
  await ensureDevCerts(certs);
  const server = new ChildProcess("start", Deno.execPath(), [
    ...withV8Flags(taskArgs("start"), flags["v8-flags"]),
    ...["--port", "0", "--certs", certs, "--max-bytes", String(budget)],
    ...["--workers", flags.workers!],
    ...(flags["gc-step"] ? ["--gc-step", flags["gc-step"]] : []),
  ]);
  try {
    const port = await servingPort(server);
    const client = await GanacheClient.connect({
      address: `127.0.0.1:${port}`,
      certs,
      timeoutMs: 60_000,
    });
    const ns = client.namespace("demo");
    const value = {
      typeUrl: "type.googleapis.com/google.protobuf.BytesValue",
      value: new Uint8Array(valueBytes),
    };
    const figures = await fillAndMeasure(
      "ganache",
      server.pid,
      budget,
      valueBytes,
      async (batches) => {
        await Promise.all(batches.map(([start, count]) =>
          ns.multiSet(
            Array.from({ length: count }, (_, j) => ({
              key: keyOf(start + j),
              value,
            })),
          )
        ));
      },
    );
    const { shards } = await client.stats();
    client.close();
    return {
      ...figures,
      keysHeld: shards.reduce((sum, s) => sum + s.items, 0),
    };
  } finally {
    await server.stop(10_000);
    await Deno.remove(certs, { recursive: true });
  }
}

/** A minimal RESP client: pipelined commands, replies counted. */
class Resp {
  readonly #conn: Deno.TcpConn;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffered = "";
  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#reader = conn.readable.getReader();
  }

  static async connect(port: number): Promise<Resp> {
    return new Resp(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Sends commands and returns their replies' first lines. */
  async send(commands: (string | Uint8Array)[][]): Promise<string[]> {
    const parts: Uint8Array[] = [];
    const utf8 = new TextEncoder();
    for (const args of commands) {
      parts.push(utf8.encode(`*${args.length}\r\n`));
      for (const arg of args) {
        const bytes = typeof arg === "string" ? utf8.encode(arg) : arg;
        parts.push(
          utf8.encode(`$${bytes.length}\r\n`),
          bytes,
          utf8.encode("\r\n"),
        );
      }
    }
    const size = parts.reduce((sum, p) => sum + p.length, 0);
    const out = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    for (let written = 0; written < out.length;) {
      written += await this.#conn.write(out.subarray(written));
    }
    const replies: string[] = [];
    const decoder = new TextDecoder();
    while (replies.length < commands.length) {
      const end = this.#buffered.indexOf("\r\n");
      if (end >= 0) {
        replies.push(this.#buffered.slice(0, end));
        this.#buffered = this.#buffered.slice(end + 2);
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("redis closed the connection");
      this.#buffered += decoder.decode(value);
    }
    return replies;
  }

  close(): void {
    this.#conn.close();
  }
}

async function redis(budget: number, valueBytes: number): Promise<Figures> {
  const port = freePort();
  const server = new ChildProcess("redis-server", "redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--maxmemory",
    String(budget),
    "--maxmemory-policy",
    "allkeys-lru",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  try {
    await server.waitFor(/Ready to accept connections/);
    const conn = await Resp.connect(port);
    const value = new Uint8Array(valueBytes);
    const figures = await fillAndMeasure(
      "redis",
      server.pid,
      budget,
      valueBytes,
      async (batches) => {
        const replies = await conn.send(batches.map(([start, count]) => {
          const args: (string | Uint8Array)[] = ["MSET"];
          for (let j = 0; j < count; j++) args.push(keyOf(start + j), value);
          return args;
        }));
        const bad = replies.find((reply) => reply !== "+OK");
        if (bad) throw new Error(`redis answered ${bad}`);
      },
    );
    const [size] = await conn.send([["DBSIZE"]]);
    conn.close();
    return { ...figures, keysHeld: Number(size!.slice(1)) };
  } finally {
    await server.stop(5_000);
  }
}

const rows: Figures[] = [];
for (const budgetText of flags.budgets!.split(",")) {
  const budget = parseSize("budgets", budgetText);
  for (const valueBytes of flags.values!.split(",").map(Number)) {
    rows.push(await ganache(budget, valueBytes));
    if (!flags["skip-redis"]) rows.push(await redis(budget, valueBytes));
  }
}
if (flags.json) console.log(JSON.stringify(rows));
else {
  const perMiB = (r: Figures) => r.keysHeld / (r.peakMiB - r.idleMiB);
  console.log(
    "| server | budget | value | peak RSS (idle) | peak above idle / budget | keys held | keys per MiB above idle | vs Redis | keys written/s |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  const step = flags["skip-redis"] ? 1 : 2;
  for (let i = 0; i < rows.length; i += step) {
    const redisRow = rows[i + step - 1]!;
    for (const r of rows.slice(i, i + step)) {
      console.log(
        `| ${r.server} | ${r.budgetMiB} MiB | ${r.valueBytes} B | ${
          r.peakMiB.toFixed(0)
        } MiB (${r.idleMiB.toFixed(0)}) | ${
          ((r.peakMiB - r.idleMiB) / r.budgetMiB).toFixed(2)
        } | ${r.keysHeld} | ${(perMiB(r) / 1000).toFixed(2)} k | ${
          (perMiB(r) / perMiB(redisRow)).toFixed(2)
        } | ${Math.round(r.writesPerSec)} |`,
      );
    }
  }
}
