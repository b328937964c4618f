/**
 * Memory per entry of a shard's store: fills a `ShardStore` with N entries
 * of 20-byte keys and 100-byte values (one shared type URL), and reports
 * the heap and RSS growth after garbage collection, per entry, minus the
 * key and value bytes themselves.
 *
 * Run: deno run --v8-flags=--expose-gc bench/memory.ts [--entries 1000000]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cacheKey } from "../shared/wire/cache_key.ts";
import { ShardStore } from "../shared/store/store.ts";
import { BYTES_TYPE_URL } from "../shared/wire/values.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { entries: { type: "string", default: "1000000" } },
});
const entries = Number(values.entries);
const KEY_BYTES = 20, VALUE_BYTES = 100;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

function measure() {
  gc!();
  gc!();
  return { heap: Deno.memoryUsage().heapUsed, rss: Deno.memoryUsage().rss };
}

const before = measure();
const store = new ShardStore({ maxBytes: 3 * 1024 * 1024 * 1024 });
const typeUrl = BYTES_TYPE_URL;
// One value buffer, changed each time (the store copies it): a buffer per
// entry would leave freed memory to the allocator and blur the figure.
const value = new Uint8Array(VALUE_BYTES);
for (let i = 0; i < entries; i++) {
  // A namespace of 4 characters and a 14-character key: "4:demo" + 14 = 20.
  const key = cacheKey("demo", `k${String(i).padStart(13, "0")}`);
  value[0] = i & 0xff;
  store.set({ key, value: { typeUrl, value }, ttlMs: 0 });
}
const after = measure();
const perEntry = (x: number) => x / entries - KEY_BYTES - VALUE_BYTES;
console.log(JSON.stringify({
  entries,
  items: store.stats().items,
  heapOverheadPerEntry: Math.round(perEntry(after.heap - before.heap)),
  rssOverheadPerEntry: Math.round(perEntry(after.rss - before.rss)),
  heapMiB: Math.round((after.heap - before.heap) / 2 ** 20),
  rssMiB: Math.round((after.rss - before.rss) / 2 ** 20),
  chargedBytesPerEntry: Math.round(store.stats().bytes / entries),
}));
