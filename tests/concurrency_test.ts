/** Many clients at once, and many connections one after another. */
import assert from "node:assert/strict";
import { decodeString, encodeString } from "../shared/wire/values.ts";
import { startTestService } from "./helpers.ts";

Deno.test("50 concurrent clients x 200 mixed operations read back exactly what they wrote", async () => {
  await using t = await startTestService({ workers: 2 });
  const CLIENTS = 50, OPS = 200, KEYS = 20;
  const models = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      const client = await t.connect(true);
      const ns = client.namespace(`client-${c}`);
      const model = new Map<string, string>();
      // A fixed pseudo-random sequence per client, so a failure can be replayed.
      let seed = c + 1;
      const next = (n: number) =>
        (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
      for (let op = 0; op < OPS; op++) {
        const key = `k${next(KEYS)}`;
        switch (next(5)) {
          case 0:
          case 1: {
            const value = `${c}/${op}`;
            await ns.setString(key, value);
            model.set(key, value);
            break;
          }
          case 2:
            assert.equal(
              await ns.getString(key),
              model.get(key),
              `client ${c} op ${op}`,
            );
            break;
          case 3:
            assert.equal(
              await ns.delete(key),
              model.delete(key),
              `client ${c} op ${op}`,
            );
            break;
          case 4: {
            const items = [key, `k${next(KEYS)}`].map((k) => ({
              key: k,
              value: encodeString(`${c}/${op}/${k}`),
            }));
            await ns.multiSet(items);
            for (const item of items) {
              model.set(item.key, `${c}/${op}/${item.key}`);
            }
            break;
          }
        }
      }
      return { ns, model };
    }),
  );
  for (const { ns, model } of models) {
    const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
    const values = await ns.multiGet(keys);
    keys.forEach((key, i) => {
      const expected = model.get(key);
      const value = values[i];
      assert.equal(value && decodeString(value), expected, `${ns.name}/${key}`);
    });
  }
});

Deno.test("50 clients in a row that each send a burst and disconnect leave the server serving", async () => {
  await using t = await startTestService({ workers: 2 });
  const keeper = await t.connect(true);
  await keeper.namespace("n").setString("kept", "yes");
  for (let c = 0; c < 50; c++) {
    const client = await t.connect(true);
    const ns = client.namespace("burst");
    const results = await Promise.all(
      Array.from(
        { length: 100 },
        (_, i) =>
          i % 2 ? ns.setString(`k${i}`, `v${c}`) : ns.getString(`k${i}`),
      ),
    );
    // Sets answer nothing; even keys are never written, so Gets miss.
    assert.deepEqual(results, Array(100).fill(undefined));
    assert.deepEqual(
      await ns.multiGet(["k1", "k51", "k99"]).then((values) =>
        values.map((value) => value && decodeString(value))
      ),
      [`v${c}`, `v${c}`, `v${c}`],
    );
    client.close();
  }
  assert.equal(await keeper.namespace("n").getString("kept"), "yes");
  assert.equal(await keeper.namespace("burst").getString("k99"), "v49");
  assert.equal(await keeper.health(), "SERVING");
});
