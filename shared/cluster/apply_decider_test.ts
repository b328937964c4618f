import assert from "node:assert/strict";
import { ShardStore } from "../store/store.ts";
import { cacheKey } from "../wire/cache_key.ts";
import {
  decodeInt64Bytes,
  encodeInt64Bytes,
  INT64_VALUE_TYPE_URL,
} from "../wire/int64_bytes.ts";
import { Decider, type Send } from "./apply_decider.ts";
import type { Operation, OperationResult } from "./apply_messages.ts";
import { ReplicaMemory } from "./replica_memory.ts";

const KEY = cacheKey("n", "k");

/** A replica: its store, memory and decider, on a shared fake clock. */
function replica(now: () => number, node: number) {
  const store = new ShardStore({ maxBytes: 1 << 20 });
  const memory = new ReplicaMemory(now, node);
  return { store, memory, decider: new Decider(store, memory) };
}

/**
 * A one-way link to `to` whose forwards wait until delivered, in order (as
 * one `Replicate` call at a time delivers them).
 */
function link(to: Decider): { send: Send; deliver: () => number } {
  const queue: (() => void)[] = [];
  return {
    send: (forward) =>
      new Promise((resolve) =>
        queue.push(() => resolve([to.replicate(forward)]))
      ),
    deliver: () => {
      const due = queue.splice(0);
      due.forEach((deliver) => deliver());
      return due.length;
    },
  };
}

function increment(requestId: string, delta = 1): Operation {
  return { requestId, key: KEY, increment: { delta: String(delta), ttlMs: 0 } };
}

function counter(store: ShardStore): bigint | undefined {
  const held = store.peek(KEY);
  return held === undefined ? undefined : decodeInt64Bytes(held.value);
}

/** Delivers forwards both ways until every run has settled. */
async function settle(
  runs: Promise<OperationResult>[],
  links: { deliver: () => number }[],
): Promise<OperationResult[]> {
  let done = false;
  const all = Promise.all(runs).finally(() => done = true);
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    links.forEach((l) => l.deliver());
  }
  return await all;
}

Deno.test("Decider: a result reaches the other replica, and its request id is answered, not applied again, on both", async () => {
  const now = () => 1_000_000;
  const a = replica(now, 1), b = replica(now, 2);
  const ab = link(b.decider), ba = link(a.decider);
  const [first] = await settle([a.decider.run(increment("x"), ab.send)], [ab]);
  assert.equal(first!.value, "1");
  assert.equal(counter(b.store), 1n);
  assert.equal(b.store.peek(KEY)!.version, a.store.peek(KEY)!.version);
  const again = await settle([
    a.decider.run(increment("x"), ab.send),
    b.decider.run(increment("x"), ba.send),
  ], [ab, ba]);
  assert.deepEqual(again.map((r) => r.value), ["1", "1"]);
  assert.equal(counter(a.store), 1n);
  assert.equal(counter(b.store), 1n);
});

Deno.test("Decider: a short overlap of two deciding replicas (a failover one frontend sees and another does not) loses no increment and doubles none", async () => {
  for (let seed = 1; seed <= 200; seed++) {
    // A small deterministic generator: the runs differ in clock steps,
    // in when operations start and in which way forwards travel first.
    let state = seed;
    const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
    let ms = 1_000_000;
    const now = () => ms;
    const a = replica(now, 1), b = replica(now, 2);
    const ab = link(b.decider), ba = link(a.decider);
    const runs: Promise<OperationResult>[] = [];
    let done = false;
    for (let i = 0; i < 5 || !done; i++) {
      if (i < 5) {
        const [decider, send] = random() < 0.5
          ? [a.decider, ab.send]
          : [b.decider, ba.send];
        runs.push(decider.run(increment(`op${i}`), send));
      }
      if (i === 4) Promise.all(runs).finally(() => done = true);
      ms += Math.floor(random() * 3);
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (random() < 0.6) ab.deliver();
      if (random() < 0.6) ba.deliver();
    }
    const results = await Promise.all(runs);
    const sums = results.map((r) => r.value);
    assert.ok(results.every((r) => r.code === 0), `seed ${seed}: ${sums}`);
    assert.equal(counter(a.store), 5n, `seed ${seed}: ${sums}`);
    assert.equal(counter(b.store), 5n, `seed ${seed}: ${sums}`);
    // Each saw its own sum.
    assert.equal(new Set(sums).size, 5, `seed ${seed}: ${sums}`);
  }
});

Deno.test("Decider: one request id decided on two replicas at once is applied once", async () => {
  const now = () => 1_000_000;
  const a = replica(now, 1), b = replica(now, 2);
  const ab = link(b.decider), ba = link(a.decider);
  await settle([a.decider.run(increment("before", 10), ab.send)], [ab]);
  const results = await settle([
    a.decider.run(increment("same"), ab.send),
    b.decider.run(increment("same"), ba.send),
  ], [ab, ba]);
  assert.deepEqual(results.map((r) => r.value), ["11", "11"]);
  assert.equal(counter(a.store), 11n);
  assert.equal(counter(b.store), 11n);
});

Deno.test("Decider: a newer write the decider has not seen is taken, and the operation applied on top of it", async () => {
  const now = () => 1_000_000;
  const a = replica(now, 1), b = replica(now, 2);
  const ab = link(b.decider);
  await settle([a.decider.run(increment("one"), ab.send)], [ab]);
  // A Set of 100 reached b, not yet a, with a version above a's.
  b.store.set({
    key: KEY,
    value: { typeUrl: INT64_VALUE_TYPE_URL, value: encodeInt64Bytes(100n) },
    ttlMs: 0,
    version: a.store.peek(KEY)!.version! + 1000,
  });
  const [result] = await settle([a.decider.run(increment("two"), ab.send)], [
    ab,
  ]);
  assert.equal(result!.value, "101");
  assert.equal(counter(a.store), 101n);
  assert.equal(counter(b.store), 101n);
});

Deno.test("Decider: failures are results, nothing is forwarded, and a retry decides again", async () => {
  const now = () => 1_000_000;
  const a = replica(now, 1), b = replica(now, 2);
  const ab = link(b.decider);
  a.store.set({
    key: KEY,
    value: { typeUrl: "t", value: new Uint8Array([1]) },
    ttlMs: 0,
    version: 5,
  });
  const [refused] = await settle([a.decider.run(increment("r"), ab.send)], [
    ab,
  ]);
  assert.equal(refused!.code, 9);
  assert.equal(b.store.peek(KEY), undefined);
  const [bad] = await settle([
    a.decider.run({
      requestId: "bad",
      key: KEY,
      increment: { delta: "1.5", ttlMs: 0 },
    }, ab.send),
  ], [ab]);
  assert.equal(bad!.code, 3);
  a.store.delete(KEY, 6);
  const [retried] = await settle([a.decider.run(increment("r"), ab.send)], [
    ab,
  ]);
  assert.equal(retried!.value, "1");
});
