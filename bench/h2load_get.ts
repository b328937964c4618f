/**
 * Get throughput with h2load as the client (64 requests in flight on one
 * connection by default), in one run, of:
 * - `echo`: a bare grpc-js TLS server answering Get with the same reply
 *   bytes (the transport ceiling),
 * - `start`: the embedded service,
 * - `cluster` (with `--cluster`): a `cfe` frontend with 2 remote shard
 *   processes and an etcd.
 * Servers use TLS without client certificates, since h2load cannot
 * present one. Rounds alternate between the targets to spread the noise.
 *
 * Usage: deno run -A bench/h2load_get.ts [--duration 10] [--streams 64]
 *        [--rounds 2] [--value-bytes 100] [--workers N] [--cluster]
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { ensureDevCerts } from "../shared/frontend/certs.ts";
import { GanacheClient } from "../shared/client.ts";
import { encodeBytes } from "../shared/wire/values.ts";
import { PROTO_ROOT } from "../shared/wire/services.ts";
import { EtcdServer } from "../tests/etcd_server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "10" },
    streams: { type: "string", default: "64" },
    rounds: { type: "string", default: "2" },
    "value-bytes": { type: "string", default: "100" },
    workers: {
      type: "string",
      default: String(navigator.hardwareConcurrency),
    },
    cluster: { type: "boolean", default: false },
  },
});

const ROOT = new URL("..", import.meta.url).pathname;
const certs = await Deno.makeTempDir({ prefix: "ganache-bench-" });
await ensureDevCerts(certs);
const value = encodeBytes(
  crypto.getRandomValues(new Uint8Array(Number(values["value-bytes"]))),
);
const GetRequest = PROTO_ROOT.lookupType("ganache.cfe.GetRequest");
const GetResponse = PROTO_ROOT.lookupType("ganache.cfe.GetResponse");
const request = GetRequest.encode({ namespace: "bench", key: "key-0" })
  .finish();
const reply = GetResponse.encode({ data: value }).finish();
const frame = new Uint8Array(5 + request.length);
new DataView(frame.buffer).setUint32(1, request.length);
frame.set(request, 5);
const body = `${certs}/get.bin`;
await Deno.writeFile(body, frame);

interface Server {
  process: Deno.ChildProcess;
  port: number;
}

const processes: Deno.ChildProcess[] = [];

/** Runs `deno <args>` and resolves with the port its log names. */
async function spawn(args: string[], pattern: RegExp): Promise<Server> {
  const process = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  processes.push(process);
  let text = "";
  for await (
    const chunk of process.stderr.pipeThrough(new TextDecoderStream())
  ) {
    text += chunk;
    const match = text.match(pattern);
    if (match) {
      process.stderr.cancel().catch(() => {});
      return { process, port: Number(match[1]) };
    }
  }
  throw new Error(`server did not start:\n${text}`);
}

async function h2load(port: number): Promise<{ rps: number; meanMs: number }> {
  const args = [
    ["-c", "1", "-t", "1", "-m", values.streams],
    ["-D", values.duration, "--warm-up-time", "1"],
    ["-H", "content-type: application/grpc", "-H", "te: trailers"],
    ["-d", body, `https://127.0.0.1:${port}/ganache.cfe.CFE/Get`],
  ].flat();
  const out = await new Deno.Command("h2load", {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = text.match(/finished in [\d.]+s, ([\d.]+) req\/s/);
  const failed = text.match(/(\d+) failed, (\d+) errored/);
  const mean = text.match(/time for request:\s+\S+\s+\S+\s+(\S+)/);
  if (!rps || !failed || failed[1] !== "0" || failed[2] !== "0") {
    throw new Error(
      `h2load failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  const meanText = mean?.[1] ?? "0ms";
  const meanMs = parseFloat(meanText) * (meanText.endsWith("us") ? 0.001 : 1);
  return { rps: Number(rps[1]), meanMs };
}

const RUN = ["run", "-A", "--unstable-worker-options", "main.ts"];
const FRONTEND_PORT = /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/;
let etcd: EtcdServer | undefined;
try {
  const targets: [string, Server][] = [
    [
      "echo",
      await spawn(
        [
          "run",
          "-A",
          "bench/echo_server.ts",
          "--certs",
          certs,
          "--no-client-auth",
        ]
          .concat(["--reply-hex", Buffer.from(reply).toString("hex")]),
        /listening on 127\.0\.0\.1:(\d+)/,
      ),
    ],
    [
      "start",
      await spawn(
        [...RUN, "start", "--port", "0", "--certs", certs, "--no-client-auth"]
          .concat(["--workers", values.workers]),
        FRONTEND_PORT,
      ),
    ],
  ];
  if (values.cluster) {
    etcd = await EtcdServer.start();
    const cluster = ["--etcd", etcd.url, "--certs", certs, "--shards", "2"];
    for (let i = 0; i < 2; i++) {
      await spawn([...RUN, "shard", "--port", "0", ...cluster], /serving on/);
    }
    targets.push([
      "cluster",
      await spawn(
        [...RUN, "cfe", "--port", "0", "--no-client-auth", ...cluster],
        FRONTEND_PORT,
      ),
    ]);
  }
  const clients = await Promise.all(
    targets.slice(1).map(([, server]) =>
      GanacheClient.connect({ address: `127.0.0.1:${server.port}`, certs })
    ),
  );
  for (const client of clients) {
    await client.namespace("bench").set("key-0", value);
  }
  const results = new Map<string, number[]>(
    targets.map(([name]) => [name, []]),
  );
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, server] of targets) {
      const { rps, meanMs } = await h2load(server.port);
      results.get(name)!.push(rps);
      console.log(
        `round ${round + 1} ${name.padEnd(7)} ${
          rps.toFixed(0).padStart(7)
        } req/s  mean ${meanMs.toFixed(2)} ms`,
      );
    }
  }
  for (const client of clients) {
    const { shards } = await client.stats();
    const misses = shards.reduce((sum, s) => sum + s.misses, 0);
    client.close();
    if (misses !== 0) {
      throw new Error(`${misses} misses: the benchmark did not read the key`);
    }
  }
  const mean = (name: string) => {
    const xs = results.get(name)!;
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  console.log(
    `\nGet, ${values.streams} in flight, ${
      values["value-bytes"]
    }-byte value (mean of ${values.rounds} rounds):`,
  );
  for (const [name] of targets) {
    console.log(
      `  ${name.padEnd(7)} ${mean(name).toFixed(0).padStart(7)} req/s  ${
        (mean(name) / mean("echo")).toFixed(2)
      } x echo  ${(mean(name) / mean("start")).toFixed(2)} x start`,
    );
  }
} finally {
  for (const process of processes) {
    process.kill("SIGTERM");
    await process.status;
  }
  await etcd?.[Symbol.asyncDispose]();
  await Deno.remove(certs, { recursive: true });
}
