import assert from "node:assert/strict";
import { cacheKey } from "../wire/cache_key.ts";
import type { OperationResult } from "./apply_messages.ts";
import {
  MAX_RECENT_FLUSHES,
  MAX_RECENT_RESULTS,
  RECENT_MS,
  ReplicaMemory,
} from "./replica_memory.ts";

const result = (value: string): OperationResult => ({
  code: 0,
  message: "",
  value,
  version: 1,
  existed: false,
});

Deno.test("ReplicaMemory: a flush is a floor for its namespace only, the higher of two wins, and it is forgotten after RECENT_MS", () => {
  let now = 1_000_000;
  const memory = new ReplicaMemory(() => now);
  memory.flush("ns", 500);
  memory.flush("ns", 400);
  assert.equal(memory.floor(cacheKey("ns", "k")), 500);
  assert.equal(memory.floor(cacheKey("ns2", "k")), 0);
  assert.equal(memory.floor(cacheKey("n", "sk")), 0);
  assert.deepEqual(memory.flushes().map((f) => [f.namespace, f.version]), [
    ["ns", 500],
  ]);
  now += RECENT_MS;
  assert.equal(memory.floor(cacheKey("ns", "k")), 0);
  assert.deepEqual(memory.flushes(), []);
});

Deno.test("ReplicaMemory: the highest version met covers writes, flushes and its own decisions", () => {
  const memory = new ReplicaMemory(() => 1000);
  memory.floor("2:ns:k", 7_000_000);
  assert.equal(memory.highest, 7_000_000);
  memory.flush("ns", 8_000_000);
  assert.equal(memory.highest, 8_000_000);
  const next = memory.next();
  assert.ok(next > 8_000_000);
  assert.equal(memory.highest, next);
});

Deno.test("ReplicaMemory: results are remembered for RECENT_MS and at most MAX_RECENT_RESULTS, the oldest forgotten first", () => {
  let now = 0;
  const memory = new ReplicaMemory(() => now);
  memory.remember("a", result("1"));
  memory.remember("a", result("2"));
  assert.equal(memory.result("a")?.value, "2");
  for (let i = 0; i < MAX_RECENT_RESULTS; i++) {
    memory.remember(`id${i}`, result(String(i)));
  }
  assert.equal(memory.result("a"), undefined);
  assert.equal(memory.result("id0")?.value, "0");
  assert.equal(memory.results().length, MAX_RECENT_RESULTS);
  now += RECENT_MS;
  assert.equal(memory.result("id1"), undefined);
});

Deno.test("ReplicaMemory: at most MAX_RECENT_FLUSHES namespaces, the oldest forgotten first", () => {
  const memory = new ReplicaMemory(() => 0);
  for (let i = 0; i <= MAX_RECENT_FLUSHES; i++) memory.flush(`ns${i}`, i + 1);
  assert.equal(memory.flushes().length, MAX_RECENT_FLUSHES);
  assert.equal(memory.floor(cacheKey("ns0", "k")), 0);
  assert.equal(memory.floor(cacheKey(`ns${MAX_RECENT_FLUSHES}`, "k")), 4097);
});
