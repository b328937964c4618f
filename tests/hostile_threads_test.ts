/**
 * Frontend threads that fail: one that cannot start fails `start` with its
 * cause, and one that dies is replaced while `/metrics`, calls and
 * shutdown go on.
 */
import assert from "node:assert/strict";
import { startTestService } from "./helpers.ts";

const FAILING = new URL(
  "./fixtures/failing_frontend_thread.ts",
  import.meta.url,
);
const DYING = new URL("./fixtures/dying_frontend_thread.ts", import.meta.url);

Deno.test("a frontend thread that fails while starting fails start with the cause", async () => {
  await assert.rejects(
    startTestService({ frontendThreads: 3, frontendThreadUrl: FAILING }),
    /frontend thread \d failed to start: .*cannot start on purpose/,
  );
});

Deno.test("a frontend thread that dies is replaced; /metrics answers without it, calls go on, and shutdown does not wait for it", async () => {
  await using t = await startTestService({
    frontendThreads: 2,
    frontendThreadUrl: DYING,
    metricsPort: 0,
  });
  const url = `http://127.0.0.1:${t.service.metricsPort}/metrics`;
  // Asking the thread for its metrics kills it: the scrape still answers.
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /ganache_requests_total/);
  // Connections keep being served, by the main thread and the replacement.
  const clients = await Promise.all(
    Array.from({ length: 8 }, () => t.connect(true)),
  );
  await Promise.all(clients.map(async (client, c) => {
    const ns = client.namespace(`c${c}`);
    await ns.setString("k", `v${c}`);
    assert.equal(await ns.getString("k"), `v${c}`);
  }));
  // And again, whether the replacement serves yet or not.
  assert.equal(
    (await fetch(url).then(async (r) => {
      await r.body?.cancel();
      return r;
    })).status,
    200,
  );
});
