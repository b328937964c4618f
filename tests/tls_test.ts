/** Mutual TLS, foreign certificates, client-auth off, ACLs, and a non-JavaScript TLS client. */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { GanacheClient } from "../shared/client.ts";
import { readTlsFiles } from "../shared/frontend/tls.ts";
import {
  makeCerts,
  noClientCert,
  rawCallStatus,
  startTestService,
  statusOf,
} from "./helpers.ts";

Deno.test("a client without a certificate is refused; the server keeps serving", async () => {
  await using t = await startTestService();
  const ok = await t.connect();
  await ok.namespace("n").setString("k", "v");
  const code = await rawCallStatus(
    t.address,
    noClientCert(t.clientTls.ca),
    "/ganache.cfe.CFE/Get",
    new Uint8Array(0),
  );
  assert.equal(code, grpc.status.UNAVAILABLE);
  assert.equal(await ok.namespace("n").getString("k"), "v");
});

Deno.test("a client certificate from another CA is refused", async () => {
  await using t = await startTestService();
  const foreignDir = await makeCerts();
  try {
    const foreign = await readTlsFiles(foreignDir, "client");
    // Trusts the right CA, but presents a certificate the server's CA did not sign.
    const client = await GanacheClient.connect({
      address: t.address,
      tls: { ...foreign, ca: t.clientTls.ca },
    });
    try {
      assert.equal(await statusOf(client.stats()), grpc.status.UNAVAILABLE);
    } finally {
      client.close();
    }
    const good = await t.connect();
    assert.equal((await good.stats()).shards.length, 2);
  } finally {
    await Deno.remove(foreignDir, { recursive: true });
  }
});

Deno.test("a server certificate from another CA is refused by the client", async () => {
  await using t = await startTestService();
  const foreignDir = await makeCerts();
  try {
    const foreign = await readTlsFiles(foreignDir, "client");
    // The client certificate is the server's own client's, which it
    // accepts: only the client's check of the server can refuse this.
    const client = await GanacheClient.connect({
      address: t.address,
      tls: { ...t.clientTls, ca: foreign.ca },
    });
    try {
      assert.equal(await statusOf(client.stats()), grpc.status.UNAVAILABLE);
    } finally {
      client.close();
    }
    // The same certificate, trusting the right CA, is served.
    const good = await GanacheClient.connect({
      address: t.address,
      tls: t.clientTls,
    });
    try {
      assert.equal((await good.stats()).shards.length, 2);
    } finally {
      good.close();
    }
  } finally {
    await Deno.remove(foreignDir, { recursive: true });
  }
});

Deno.test("--no-client-auth accepts a TLS client without a certificate", async () => {
  await using t = await startTestService({ clientAuth: false });
  const code = await rawCallStatus(
    t.address,
    noClientCert(t.clientTls.ca),
    "/ganache.cfe.CFE/Get",
    // GetRequest{namespace: "n", key: "k"}
    new Uint8Array([0x0a, 0x01, 0x6e, 0x12, 0x01, 0x6b]),
  );
  assert.equal(code, grpc.status.NOT_FOUND);
});

Deno.test("the ACL allows listed namespaces and denies the rest", async () => {
  const acl = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    acl,
    JSON.stringify({ client: ["demo"], other: ["*"] }),
  );
  try {
    await using t = await startTestService({ acl });
    const client = await t.connect();
    await client.namespace("demo").setString("k", "v");
    assert.equal(await client.namespace("demo").getString("k"), "v");
    assert.equal(
      await statusOf(client.namespace("secret").setString("k", "v")),
      grpc.status.PERMISSION_DENIED,
    );
    assert.equal(
      await statusOf(client.namespace("secret").multiGet(["k"])),
      grpc.status.PERMISSION_DENIED,
    );
    assert.equal((await client.stats()).shards.length, 2);
  } finally {
    await Deno.remove(acl);
  }
});

Deno.test("a client the ACL does not name may not even read Stats", async () => {
  const acl = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(acl, JSON.stringify({ admin: ["*"] }));
  try {
    await using t = await startTestService({ acl });
    const client = await t.connect();
    assert.equal(await statusOf(client.stats()), grpc.status.PERMISSION_DENIED);
    assert.equal(
      await statusOf(client.namespace("demo").getString("k")),
      grpc.status.PERMISSION_DENIED,
    );
  } finally {
    await Deno.remove(acl);
  }
});

async function opensslHandshake(
  address: string,
  args: string[],
): Promise<string> {
  const { stdout } = await new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      address,
      "-alpn",
      "h2",
      "-servername",
      "localhost",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(stdout);
}

Deno.test("OpenSSL completes the handshake with and without client auth", async () => {
  {
    await using t = await startTestService();
    const out = await opensslHandshake(t.address, [
      "-CAfile",
      `${t.certs}/ca.crt`,
      "-cert",
      `${t.certs}/client.crt`,
      "-key",
      `${t.certs}/client.key`,
    ]);
    assert.match(out, /Verify return code: 0 \(ok\)/);
    assert.match(out, /ALPN protocol: h2/);
  }
  {
    await using t = await startTestService({ clientAuth: false });
    const out = await opensslHandshake(t.address, [
      "-CAfile",
      `${t.certs}/ca.crt`,
    ]);
    assert.match(out, /Verify return code: 0 \(ok\)/);
    assert.match(out, /ALPN protocol: h2/);
  }
});
