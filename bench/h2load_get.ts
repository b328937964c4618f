/**
 * Get throughput and server CPU per Get with h2load as the client, in one
 * run, of:
 * - `start`: the embedded service (`deno task start --workers N`),
 * - `cluster` (with `--cluster`): a `cfe` frontend with 2 remote shard
 *   processes (1 replica each) and an etcd, all started with the command
 *   lines of the `cfe` and `shard` tasks,
 * - `echo` (with `--echo`): a bare grpc-js TLS server answering Get with
 *   the same reply bytes (the transport ceiling).
 *
 * Every Get reads one preloaded key (so one shard, or one worker, serves
 * them all). Servers use TLS without client certificates, since h2load
 * cannot present one (the cfe→shard hop keeps mutual TLS). Rounds
 * alternate between the targets to spread the noise.
 *
 * CPU per Get is the user + system time (`/proc/<pid>/stat`) of every
 * server process (start's one; cfe's and both shards' for the cluster; etcd
 * is not counted) over a whole h2load run, warm-up included, divided by the
 * Gets the servers counted over it (the shards' hits in `Stats`).
 *
 * Usage: deno run -A bench/h2load_get.ts [--cluster] [--echo]
 *        [--connections 4] [--streams 16] [--duration 10] [--rounds 3]
 *        [--value-bytes 100] [--workers 2] [--threads] [--cpu-prof DIR]
 *
 * `--threads` also prints each process's CPU per Get by thread (the main
 * thread, V8's garbage-collector helpers, worker shards).
 *
 * `--cpu-prof DIR` runs the Ganache processes with Deno's `--cpu-prof-dir`
 * and `--cpu-prof-md` (a profile and a summary per process in DIR, written
 * when they stop): for finding where the CPU goes, not for the figures.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ensureDevCerts } from "../shared/frontend/certs.ts";
import { GanacheClient } from "../shared/client.ts";
import { EtcdServer } from "../tests/etcd_server.ts";
import { ChildProcess, taskArgs } from "../tests/process_helpers.ts";
import { fixedGet, keyName, LOAD_NAMESPACE, makeValue } from "./load_wire.ts";
import { runH2load } from "./load_h2load.ts";
import {
  GANACHE_READY,
  type ServerProcess,
  servingPort,
  startEcho,
} from "./load_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    connections: { type: "string", default: "4" },
    streams: { type: "string", default: "16" },
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    "value-bytes": { type: "string", default: "100" },
    workers: { type: "string", default: "2" },
    cluster: { type: "boolean", default: false },
    echo: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    threads: { type: "boolean", default: false },
  },
});

/** User + system CPU time of a process so far, in milliseconds. */
function cpuMs(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!
    .split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** User + system CPU time so far by thread name (threads of one name summed), in ms. */
function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
      byName.set(name, (byName.get(name) ?? 0) + ms);
    } catch {
      // the thread ended
    }
  }
  return byName;
}

/** A server under test: its processes, its port, and its Gets so far. */
interface Target {
  name: string;
  port: number;
  pids: number[];
  /** Gets the server has answered (hits: every Get reads a present key). */
  gets?: () => Promise<number>;
}

const certs = await Deno.makeTempDir({ prefix: "ganache-bench-" });
await ensureDevCerts(certs);
const value = makeValue(Number(values["value-bytes"]));
const request = fixedGet(value, 1, true);
const bodyFile = `${certs}/get.bin`;
await Deno.writeFile(bodyFile, request.body);

const processes: ChildProcess[] = [];
const clients: GanacheClient[] = [];
let etcd: EtcdServer | undefined;

/** Starts `deno task <task> ...args` and waits for `ready`. */
async function task(
  name: string,
  args: string[],
  ready: RegExp,
): Promise<[ChildProcess, RegExpMatchArray]> {
  const profile = values["cpu-prof"]
    ? [`--cpu-prof-dir=${values["cpu-prof"]}`, "--cpu-prof-md"]
    : [];
  const process = new ChildProcess(name, Deno.execPath(), [
    ...taskArgs(name).toSpliced(1, 0, ...profile),
    ...args,
  ]);
  processes.push(process);
  return [process, await process.waitFor(ready, 60_000)];
}

/** Connects a client, preloads the key, and counts hits from `Stats`. */
async function ganache(
  name: string,
  port: number,
  pids: number[],
): Promise<Target> {
  const client = await GanacheClient.connect({
    address: `127.0.0.1:${port}`,
    certs,
  });
  clients.push(client);
  await client.namespace(LOAD_NAMESPACE).set(keyName(0), value);
  const gets = async () =>
    (await client.stats()).shards.reduce((sum, s) => sum + s.hits, 0);
  return { name, port, pids, gets };
}

try {
  const targets: Target[] = [];
  const [start] = await task("start", [
    ...["--port", "0", "--certs", certs, "--no-client-auth"],
    ...["--workers", values.workers],
  ], GANACHE_READY);
  const startPort = await servingPort(start);
  targets.push(await ganache("start", startPort, [start.pid]));
  if (values.cluster) {
    etcd = await EtcdServer.start();
    const flags = ["--etcd", etcd.url, "--certs", certs, "--shards", "2"];
    const shards = [];
    for (let i = 0; i < 2; i++) {
      const [shard] = await task(
        "shard",
        ["--port", "0", ...flags],
        /shard \d+ of \d+ serving on/,
      );
      shards.push(shard);
    }
    const [cfe, match] = await task(
      "cfe",
      ["--port", "0", "--no-client-auth", ...flags],
      GANACHE_READY,
    );
    await cfe.waitFor(/routing to 2 shards/, 60_000);
    targets.push(
      await ganache("cluster", Number(match[1]), [
        cfe.pid,
        ...shards.map((s) => s.pid),
      ]),
    );
  }
  if (values.echo) {
    const echo: ServerProcess = await startEcho(certs, request.reply, false);
    processes.push(echo.process);
    targets.push({ name: "echo", port: echo.port, pids: [echo.process.pid] });
  }

  const results = new Map(
    targets.map((t) => [t.name, [] as { rps: number; cpuUs: number }[]]),
  );
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const target of targets) {
      const cpu = () => target.pids.map(cpuMs);
      const getsBefore = await target.gets?.();
      const cpuBefore = cpu();
      const threadsBefore = target.pids.map(threadCpuMs);
      const result = await runH2load({
        origin: `https://127.0.0.1:${target.port}`,
        target: target.name === "echo" ? "echo" : "ganache",
        request,
        path: request.path,
        bodyFile,
        connections: Number(values.connections),
        inFlight: Number(values.streams),
        duration: Number(values.duration),
      });
      const cpuAfter = cpu();
      const threadsAfter = target.pids.map(threadCpuMs);
      const getsAfter = await target.gets?.();
      if (result.errors > 0) {
        throw new Error(`${target.name}: ${JSON.stringify(result)}`);
      }
      // The echo server counts nothing: h2load's count (warm-up aside).
      const gets = getsBefore === undefined
        ? result.ops
        : getsAfter! - getsBefore;
      const perProcess = cpuAfter.map((ms, i) =>
        (ms - cpuBefore[i]!) * 1000 / gets
      );
      const cpuUs = perProcess.reduce((a, b) => a + b, 0);
      results.get(target.name)!.push({ rps: result.opsPerSec, cpuUs });
      if (values.threads) {
        threadsAfter.forEach((after, i) => {
          const parts = [...after].map(([name, ms]) =>
            `${name} ${
              ((ms - (threadsBefore[i]!.get(name) ?? 0)) * 1000 / gets).toFixed(
                1,
              )
            }`
          );
          console.log(
            `  pid ${target.pids[i]} µs CPU/Get by thread: ${parts.join(", ")}`,
          );
        });
      }
      console.log(
        `round ${round} ${target.name.padEnd(7)} ${
          String(result.opsPerSec).padStart(7)
        } Gets/s  ${cpuUs.toFixed(1).padStart(6)} µs CPU/Get  p50 ${
          result.latencyMs.p50?.toFixed(2)
        } ms  p99 ${result.latencyMs.p99?.toFixed(2)} ms${
          perProcess.length > 1
            ? `  (µs CPU/Get by process: ${
              perProcess.map((us) => us.toFixed(1)).join(" + ")
            })`
            : ""
        }`,
      );
    }
  }
  const mean = (name: string, of: "rps" | "cpuUs") => {
    const xs = results.get(name)!.map((r) => r[of]);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  console.log(
    `\nGet, ${values.connections} connections × ${values.streams} streams, ${
      values["value-bytes"]
    }-byte value, mean of ${values.rounds} rounds of ${values.duration} s (load average ${
      Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
    }):`,
  );
  for (const { name } of targets) {
    console.log(
      `  ${name.padEnd(7)} ${mean(name, "rps").toFixed(0).padStart(7)} Gets/s ${
        (mean(name, "rps") / mean("start", "rps")).toFixed(2)
      } × start   ${mean(name, "cpuUs").toFixed(1).padStart(6)} µs CPU/Get ${
        (mean(name, "cpuUs") / mean("start", "cpuUs")).toFixed(2)
      } × start`,
    );
  }
} finally {
  clients.forEach((client) => client.close());
  await Promise.all(processes.map((process) => process.stop(5_000)));
  await etcd?.[Symbol.asyncDispose]();
  await Deno.remove(certs, { recursive: true });
}
