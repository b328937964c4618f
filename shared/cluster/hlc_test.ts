import assert from "node:assert/strict";
import { HybridLogicalClock, NODES } from "./hlc.ts";

Deno.test("HybridLogicalClock issues increasing versions even when the wall clock steps back", () => {
  let now = 1_000_000;
  const clock = new HybridLogicalClock(() => now, 3);
  const first = clock.next();
  now -= 5000;
  const second = clock.next();
  assert.ok(second > first);
  assert.equal(second % NODES, 3);
});

Deno.test("HybridLogicalClock moves past every version it observes", () => {
  const behind = new HybridLogicalClock(() => 1_000_000, 1);
  const ahead = new HybridLogicalClock(() => 1_000_000 + 3_600_000, 2);
  const future = ahead.next();
  behind.observe(future);
  assert.ok(behind.next() > future);
});

Deno.test("HybridLogicalClock: clocks with different nodes never issue the same version", () => {
  const now = () => 1_000_000;
  const a = new HybridLogicalClock(now, 0);
  const b = new HybridLogicalClock(now, 1);
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    for (const clock of [a, b]) {
      const version = clock.next();
      assert.ok(!seen.has(version));
      seen.add(version);
      // Each learns the other's versions, as frontends do through replicas.
      a.observe(version);
      b.observe(version);
    }
  }
});

Deno.test("HybridLogicalClock refuses a node out of range", () => {
  assert.throws(() => new HybridLogicalClock(Date.now, NODES), RangeError);
});
