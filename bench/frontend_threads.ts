/**
 * Does a second frontend thread pay? N threads each accept connections on
 * one port (`reusePort`) and hand them to their own grpc-js server
 * (`createConnectionInjector`), answering Get with fixed bytes (the
 * transport ceiling, as `bench/echo_server.ts`). h2load drives them with
 * several connections so the kernel can spread them across the threads.
 *
 * Run: deno run -A bench/frontend_threads.ts [--threads 1,2] [--duration 10]
 *      [--connections 4] [--streams 16] [--rounds 2]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ensureDevCerts } from "../shared/frontend/certs.ts";
import { encodeBytes } from "../shared/wire/values.ts";
import { PROTO_ROOT } from "../shared/wire/services.ts";
import { freePort } from "./load_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    threads: { type: "string", default: "1,2" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "4" },
    streams: { type: "string", default: "16" },
    rounds: { type: "string", default: "2" },
  },
});

const certs = await Deno.makeTempDir({ prefix: "ganache-threads-" });
await ensureDevCerts(certs);
const value = encodeBytes(new Uint8Array(100));
const request = PROTO_ROOT.lookupType("ganache.cfe.GetRequest")
  .encode({ namespace: "bench", key: "key-0" }).finish();
const reply = PROTO_ROOT.lookupType("ganache.cfe.GetResponse")
  .encode({ data: value }).finish();
const frame = new Uint8Array(5 + request.length);
new DataView(frame.buffer).setUint32(1, request.length);
frame.set(request, 5);
await Deno.writeFile(`${certs}/get.bin`, frame);

/** Starts `count` threads on one port; resolves with it and a stop function. */
async function startThreads(count: number) {
  const port = freePort();
  const workers = Array.from(
    { length: count },
    () =>
      new Worker(new URL("./frontend_thread_worker.ts", import.meta.url), {
        type: "module",
      }),
  );
  await Promise.all(workers.map((worker) =>
    new Promise<void>((resolve) => {
      worker.onmessage = () => resolve();
      worker.postMessage({ port, certs, reply });
    })
  ));
  return { port, stop: () => workers.forEach((w) => w.terminate()) };
}

async function h2load(port: number): Promise<number> {
  const out = await new Deno.Command("h2load", {
    args: [
      ["-c", values.connections, "-t", "1", "-m", values.streams],
      ["-D", values.duration, "--warm-up-time", "1"],
      ["-H", "content-type: application/grpc", "-H", "te: trailers"],
      [
        "-d",
        `${certs}/get.bin`,
        `https://127.0.0.1:${port}/ganache.cfe.CFE/Get`,
      ],
    ].flat(),
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = text.match(/finished in [\d.]+s, ([\d.]+) req\/s/);
  if (!rps || !/ 0 failed, 0 errored/.test(text)) throw new Error(text);
  return Number(rps[1]);
}

const counts = values.threads.split(",").map(Number);
const results = new Map<number, number[]>(counts.map((n) => [n, []]));
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const count of counts) {
      const threads = await startThreads(count);
      try {
        const rps = await h2load(threads.port);
        results.get(count)!.push(rps);
        console.log(
          `round ${round + 1}: ${count} thread(s) ${rps.toFixed(0)} req/s`,
        );
      } finally {
        threads.stop();
      }
    }
  }
  const mean = (n: number) => {
    const xs = results.get(n)!;
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  for (const count of counts) {
    console.log(
      `${count} thread(s): ${mean(count).toFixed(0)} req/s, ${
        (mean(count) / mean(counts[0]!)).toFixed(2)
      } x ${
        counts[0]
      } thread(s)  (h2load ${values.connections} connections x ${values.streams} streams)`,
    );
  }
} finally {
  await Deno.remove(certs, { recursive: true });
}
