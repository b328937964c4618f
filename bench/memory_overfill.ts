/**
 * Memory of a running `start` process (frontend and worker threads, as
 * the operating system sees it): writes `--fill` × `--max-bytes` worth of
 * entries through MultiSet and samples the process's RSS, then reports the
 * peak against the budget `--max-bytes` × 1.5 + 150 MiB, and the RSS
 * growth per entry held.
 *
 * Run: deno run -A bench/memory_overfill.ts [--max-bytes 256MiB] [--fill 2]
 *      [--value-bytes 100] [--workers 2] [--v8-flags FLAGS]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseSize } from "../shared/flags.ts";
import { ensureDevCerts } from "../shared/frontend/certs.ts";
import { GanacheClient } from "../shared/client.ts";
import { MAX_BATCH_ITEMS } from "../shared/wire/limits.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "max-bytes": { type: "string", default: "256MiB" },
    fill: { type: "string", default: "2" },
    "value-bytes": { type: "string", default: "100" },
    workers: { type: "string", default: "2" },
    "v8-flags": { type: "string" },
  },
});
const maxBytes = parseSize("max-bytes", values["max-bytes"]);
const valueBytes = Number(values["value-bytes"]);

function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

const certs = await Deno.makeTempDir({ prefix: "ganache-memory-" });
await ensureDevCerts(certs);
const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "--unstable-worker-options",
    ...(values["v8-flags"] ? [`--v8-flags=${values["v8-flags"]}`] : []),
    "main.ts",
    "start",
    "--port",
    "0",
  ]
    .concat([
      "--certs",
      certs,
      "--max-bytes",
      String(maxBytes),
      "--workers",
      values.workers,
    ]),
  cwd: new URL("..", import.meta.url).pathname,
  stdout: "null",
  stderr: "piped",
}).spawn();
let log = "";
for await (const chunk of server.stderr.pipeThrough(new TextDecoderStream())) {
  log += chunk;
  if (/worker shards of \d+ bytes are up/.test(log)) break;
}
const port = Number(/on 127\.0\.0\.1:(\d+)/.exec(log)![1]);
const client = await GanacheClient.connect({
  address: `127.0.0.1:${port}`,
  certs,
  timeoutMs: 60_000,
});
const ns = client.namespace("demo");
try {
  const idle = rssOf(server.pid);
  // 20-byte cache keys: "4:demo" and a 14-character key.
  const entryBytes = 20 + 46 + valueBytes;
  const total = Math.ceil(Number(values.fill) * maxBytes / entryBytes);
  let peak = idle;
  const batch = Math.min(MAX_BATCH_ITEMS, 1000);
  const value = {
    typeUrl: "type.googleapis.com/google.protobuf.BytesValue",
    value: new Uint8Array(valueBytes),
  };
  for (let i = 0; i < total; i += batch) {
    await Promise.all(Array.from({ length: 4 }, (_, part) => {
      const start = i + part * batch / 4;
      return ns.multiSet(Array.from({ length: batch / 4 }, (_, j) => ({
        key: `k${String(start + j).padStart(13, "0")}`,
        value,
      })));
    }));
    if ((i / batch) % 20 === 0) peak = Math.max(peak, rssOf(server.pid));
  }
  peak = Math.max(peak, rssOf(server.pid));
  const { shards } = await client.stats();
  const items = shards.reduce((sum, s) => sum + s.items, 0);
  const bytes = shards.reduce((sum, s) => sum + s.bytes, 0);
  const end = rssOf(server.pid);
  const budget = maxBytes * 1.5 + 150 * 2 ** 20;
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  console.log(
    `wrote ${total} entries (${
      mib(total * entryBytes)
    }, ${values.fill} x --max-bytes ${mib(maxBytes)}); held ${items} entries, ${
      mib(bytes)
    } charged`,
  );
  console.log(
    `RSS idle ${mib(idle)}, peak ${mib(peak)}, end ${mib(end)}; budget ${
      mib(budget)
    }: ${peak <= budget ? "within" : "OVER"}`,
  );
  console.log(
    `RSS growth per entry held: ${
      ((end - idle) / items).toFixed(0)
    } bytes (key+value ${20 + valueBytes})`,
  );
} finally {
  client.close();
  server.kill("SIGTERM");
  await server.status;
  await Deno.remove(certs, { recursive: true });
}
