/**
 * A cluster frontend (`cfe`) does not offer the read-modify-write methods
 * yet: it says so (UNIMPLEMENTED) and keeps serving Get and Set, as the
 * README states. Needs the `etcd` binary, like the other cluster tests.
 */
import assert from "node:assert/strict";
import { Status } from "../shared/wire/errors.ts";
import { encodeString } from "../shared/wire/values.ts";
import { Cluster } from "./cluster.ts";
import { statusOf } from "./helpers.ts";

Deno.test("a cluster frontend answers UNIMPLEMENTED for counters, conditional writes, touch, multi-delete and flush", async () => {
  await using cluster = await Cluster.start();
  await cluster.shard(["--shards", "1"]);
  await cluster.waitForRegistrations((r) => r.length === 1);
  const cfe = await cluster.cfe();
  const ns = cfe.client.namespace("c");
  const calls = [
    () => ns.increment("k", 1),
    () => ns.setIfAbsent("k", encodeString("v")),
    () => ns.setIfVersion("k", encodeString("v"), 0),
    () => ns.touch("k", 0),
    () => ns.deleteMany(["k"]),
    () => ns.flushNamespace(),
  ];
  for (const call of calls) {
    assert.equal(await statusOf(call()), Status.UNIMPLEMENTED);
  }
  await ns.setString("k", "v");
  assert.equal(await ns.getString("k"), "v");
  assert.equal((await ns.getWithVersion("k"))?.version, 0);
});
