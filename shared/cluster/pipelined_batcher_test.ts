import assert from "node:assert/strict";
import { PipelinedBatcher } from "./pipelined_batcher.ts";

Deno.test("PipelinedBatcher sends items of one turn together, and gathers later ones while batches are out", async () => {
  const batches: number[][] = [];
  const release: (() => void)[] = [];
  const batcher = new PipelinedBatcher<number, number>(
    (items) => {
      batches.push(items);
      return new Promise((resolve) =>
        release.push(() => resolve(items.map((i) => i * 10)))
      );
    },
    Infinity,
    1,
  );
  const first = [1, 2].map((i) => batcher.add(i));
  await Promise.resolve();
  const later = [3, 4, 5].map((i) => batcher.add(i));
  await Promise.resolve();
  assert.deepEqual(batches, [[1, 2]]);
  release.shift()!();
  assert.deepEqual(await Promise.all(first), [10, 20]);
  // One macrotask: the batcher sends the next batch from a microtask of
  // the finished one; no time is waited for.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(batches, [[1, 2], [3, 4, 5]]);
  release.shift()!();
  assert.deepEqual(await Promise.all(later), [30, 40, 50]);
});

Deno.test("PipelinedBatcher rejects every item of a failed batch and keeps going", async () => {
  let calls = 0;
  const batcher = new PipelinedBatcher<number, number>((items) => {
    calls++;
    return calls === 1
      ? Promise.reject(new Error("down"))
      : Promise.resolve(items);
  }, 2);
  const results = await Promise.allSettled(
    [1, 2, 3].map((i) => batcher.add(i)),
  );
  assert.deepEqual(results.map((r) => r.status), [
    "rejected",
    "rejected",
    "fulfilled",
  ]);
});
