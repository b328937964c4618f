import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { ensureDevCerts } from "./certs.ts";

Deno.test("ensureDevCerts called many times at once on an empty folder makes one CA, and every leaf chains to it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ganache-certs-unit-" });
  try {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => ensureDevCerts(dir)),
    );
    assert.equal(results.filter((r) => r.newCa).length, 1);
    assert.deepEqual(
      results.map((r) => r.created.length).sort(),
      [0, 0, 0, 8],
    );
    const ca = new X509Certificate(await Deno.readFile(`${dir}/ca.crt`));
    for (const leaf of ["cfe", "shard", "client"]) {
      const cert = new X509Certificate(
        await Deno.readFile(`${dir}/${leaf}.crt`),
      );
      assert.ok(cert.checkIssued(ca), leaf);
      assert.ok(cert.verify(ca.publicKey), leaf);
    }
    const left = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    assert.equal(left.length, 8, left.join(", "));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureDevCerts removes a lock left by a process that died, then leaves a complete folder as it is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ganache-certs-unit-" });
  try {
    await Deno.writeTextFile(`${dir}/.ganache-certs.lock`, "");
    const old = new Date(Date.now() - 60_000);
    await Deno.utime(`${dir}/.ganache-certs.lock`, old, old);
    assert.equal((await ensureDevCerts(dir)).newCa, true);
    assert.deepEqual(await ensureDevCerts(dir), { created: [], newCa: false });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
