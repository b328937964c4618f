/**
 * The GC pacer in a real `start` process, started with the task's own
 * command line (whose V8 flags must expose `gc`): it collects once per
 * `--gc-step` of message bytes, `auto` (the default) follows `--max-bytes`,
 * and `off` leaves V8 alone.
 */
import assert from "node:assert/strict";
import { GanacheClient } from "../shared/client.ts";
import { CFE_SERVICE } from "../shared/wire/services.ts";
import { makeCerts } from "./helpers.ts";
import { Cluster } from "./cluster.ts";
import { GanacheProcess } from "./process_helpers.ts";
import { sampleOf, scrape } from "./prometheus.ts";

const MiB = 2 ** 20;
const PACER = /collecting dead network buffers every (\d+) bytes of messages/;
const BATCHES = 40;
const VALUE = {
  typeUrl: "type.googleapis.com/google.protobuf.BytesValue",
  value: new Uint8Array(1024),
};

/** The items of MultiSet number `batch`: 1,000 keys of 1 KiB each. */
function itemsOf(batch: number) {
  return Array.from({ length: 1000 }, (_, i) => ({
    key: `k${batch * 1000 + i}`,
    value: VALUE,
  }));
}

/** The size of each MultiSet request {@linkcode flood} sends (its responses are empty). */
function floodSizes(): number[] {
  return Array.from(
    { length: BATCHES },
    (_, batch) =>
      CFE_SERVICE.MultiSet!.requestSerialize({
        namespace: "flood",
        items: itemsOf(batch).map(({ key, value }) => ({
          key,
          data: value,
          ttlMs: 0,
        })),
      }).byteLength,
  );
}

/**
 * Starts `start` with `args`, writes 40 MultiSets of 1,000 1-KiB values,
 * and returns its log and its `/metrics` after.
 */
async function flood(args: string[]) {
  const certs = await makeCerts();
  const server = new GanacheProcess("start", [
    ...["--port", "0", "--metrics-port", "0", "--certs", certs],
    ...["--workers", "1", ...args],
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
      for (let batch = 0; batch < BATCHES; batch++) {
        await ns.multiSet(itemsOf(batch));
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

/** The step the pacer announced, and the collections `/metrics` counted. */
function pacing({ lines, scrape }: Awaited<ReturnType<typeof flood>>) {
  assert.ok(!lines.some((line) => line.includes("gc is not exposed")));
  return {
    step: lines.map((line) => PACER.exec(line)).find(Boolean)?.[1],
    collections: sampleOf(scrape, "ganache_gc_paced_collections_total"),
  };
}

/**
 * How many collections messages of these sizes make at `step`: one each
 * time the bytes counted since the last one reach the step.
 */
function collectionsFor(sizes: number[], step: number): number {
  let counted = 0;
  let collections = 0;
  for (const size of sizes) {
    counted += size;
    if (counted >= step) {
      counted = 0;
      collections++;
    }
  }
  return collections;
}

Deno.test("the task's start with --gc-step 2MiB collects once per 2 MiB of message bytes, and counts it", async () => {
  const { step, collections } = pacing(
    await flood(["--max-bytes", "64MiB", "--gc-step", "2MiB"]),
  );
  assert.equal(step, String(2 * MiB));
  assert.equal(collections, collectionsFor(floodSizes(), 2 * MiB));
});

Deno.test("by default (--gc-step auto) the step is 1/64 of --max-bytes, at least 1 MiB", async () => {
  const at256 = pacing(await flood(["--max-bytes", "256MiB"]));
  assert.equal(at256.step, String(4 * MiB));
  assert.equal(at256.collections, collectionsFor(floodSizes(), 4 * MiB));
  const at16 = pacing(await flood(["--max-bytes", "16MiB"]));
  assert.equal(at16.step, String(MiB));
  assert.equal(at16.collections, collectionsFor(floodSizes(), MiB));
});

Deno.test("with --gc-step off collections are left to V8", async () => {
  const { lines, scrape } = await flood([
    ...["--max-bytes", "16MiB", "--gc-step", "off"],
  ]);
  assert.ok(!lines.some((line) => PACER.test(line)));
  assert.equal(
    sampleOf(scrape, "ganache_gc_paced_collections_total"),
    undefined,
  );
});

Deno.test("the task's shard paces by its own --max-bytes: 1 MiB at 64 MiB, one collection for each write of more than that", async () => {
  await using cluster = await Cluster.start();
  const shard = await cluster.shard([
    ...["--shards", "1", "--max-bytes", "64MiB", "--metrics-port", "0"],
  ]);
  const metrics = (await shard.process.waitFor(/metrics on (http:\S+)/))[1]!;
  const step = (await shard.process.waitFor(PACER))[1];
  assert.equal(step, String(MiB));
  const cfe = await cluster.cfe();
  const ns = cfe.client.namespace("flood");
  // Each MultiSet of 1,000 1-KiB values reaches the shard as one message
  // of more than 1 MiB, and nothing else it sees comes near 1 KiB.
  for (let batch = 0; batch < 4; batch++) await ns.multiSet(itemsOf(batch));
  assert.equal(
    sampleOf(await scrape(metrics), "ganache_gc_paced_collections_total"),
    4,
  );
});
