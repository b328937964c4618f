/**
 * The GC pacer in a real `start` process, started with the task's own
 * command line (whose V8 flags must expose `gc`): `--gc-step 2MiB` starts
 * it and it collects under a MultiSet flood; by default V8 is left alone.
 */
import assert from "node:assert/strict";
import { GanacheClient } from "../shared/client.ts";
import { makeCerts } from "./helpers.ts";
import { GanacheProcess } from "./process_helpers.ts";
import { sampleOf, scrape } from "./prometheus.ts";

const PACER = /collecting dead network buffers every (\d+) bytes/;

/**
 * Starts `start` with `args`, writes 40 MiB of values in MultiSets of
 * 1,000, and returns its log and its `/metrics` after.
 */
async function flood(args: string[]) {
  const certs = await makeCerts();
  const server = new GanacheProcess("start", [
    ...["--port", "0", "--metrics-port", "0", "--certs", certs],
    ...["--workers", "1", "--max-bytes", "16MiB", ...args],
  ], certs);
  try {
    const port = Number(
      (await server.waitFor(/serving ganache\.cfe\.CFE on [\d.]+:(\d+)/))[1],
    );
    const metrics = (await server.waitFor(/metrics on (http:\S+)/))[1]!;
    await server.waitFor(/worker shards of \d+ bytes are up/);
    const client = await GanacheClient.connect({
      address: `127.0.0.1:${port}`,
      certs,
    });
    try {
      const ns = client.namespace("flood");
      const value = {
        typeUrl: "type.googleapis.com/google.protobuf.BytesValue",
        value: new Uint8Array(1024),
      };
      for (let batch = 0; batch < 40; batch++) {
        await ns.multiSet(
          Array.from({ length: 1000 }, (_, i) => ({
            key: `k${batch * 1000 + i}`,
            value,
          })),
        );
      }
    } finally {
      client.close();
    }
    return { lines: server.lines, scrape: await scrape(metrics) };
  } finally {
    await server.stop();
    await Deno.remove(certs, { recursive: true });
  }
}

Deno.test("the task's start with --gc-step 2MiB paces full collections every 2 MiB of network garbage, and counts them", async () => {
  const { lines, scrape } = await flood(["--gc-step", "2MiB"]);
  const started = lines.map((line) => PACER.exec(line)).find(Boolean);
  assert.equal(started?.[1], String(2 * 2 ** 20));
  assert.ok(!lines.some((line) => line.includes("gc is not exposed")));
  // 40 MiB of requests leave far more than 2 MiB of dead buffers.
  const collections = sampleOf(scrape, "ganache_gc_paced_collections_total");
  assert.ok(collections !== undefined && collections >= 1, `${collections}`);
});

Deno.test("by default (--gc-step off) collections are left to V8", async () => {
  const { lines, scrape } = await flood([]);
  assert.ok(!lines.some((line) => PACER.test(line)));
  assert.equal(
    sampleOf(scrape, "ganache_gc_paced_collections_total"),
    undefined,
  );
});
