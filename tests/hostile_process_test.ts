/**
 * Hostile clients against `start` as its task runs it, in a process of its
 * own: out of file descriptors (`ulimit -n 256` and more idle connections
 * than that), and huge type URLs with the V8 heap capped. The process
 * stays up and serves correct data afterwards.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { GanacheClient } from "../shared/client.ts";
import { readTlsFiles } from "../shared/frontend/tls.ts";
import { makeCerts } from "./helpers.ts";
import { ChildProcess, GanacheProcess, taskArgs } from "./process_helpers.ts";

Deno.test("out of file descriptors: start logs and counts it, and accepts again once descriptors are free", async () => {
  const certs = await makeCerts();
  const server = new ChildProcess("start (ulimit -n 256)", "bash", [
    "-c",
    'ulimit -n 256 && exec "$0" "$@"',
    Deno.execPath(),
    ...taskArgs("start", certs),
    ...["--port", "0", "--workers", "1", "--certs", certs],
    ...["--metrics-port", "0"],
  ]);
  const conns: Deno.Conn[] = [];
  try {
    const [, port] = await server.waitFor(
      /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
    );
    const [, metricsPort] = await server.waitFor(
      /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/,
    );
    await server.waitFor(/worker shards of \d+ bytes are up/);
    const address = `127.0.0.1:${port}`;
    // More connections than the server has descriptors (the kernel's
    // backlog completes them whether the server accepts or not).
    for (let i = 0; i < 400; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: +port! }));
    }
    await server.waitFor(/cannot accept connections: .*descriptors are free/);
    for (const conn of conns.splice(0)) conn.close();
    await server.waitFor(/accepting connections on port \d+ again/);

    const client = await GanacheClient.connect({
      address,
      tls: await readTlsFiles(certs, "client"),
    });
    try {
      assert.equal(await client.health(), "SERVING");
      const ns = client.namespace("fd");
      await ns.setString("k", "still here");
      assert.equal(await ns.getString("k"), "still here");
    } finally {
      client.close();
    }
    // A burst closed at once: whether the guard sees the descriptors run
    // out or only finds the listener stalled, accepting resumes.
    for (let i = 0; i < 400; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: +port! }));
    }
    for (const conn of conns.splice(0)) conn.close();
    // A connection that waited in the stalled listener's backlog is reset
    // when the listener is replaced: UNAVAILABLE, and the client retries.
    for (let attempt = 1;; attempt++) {
      const again = await GanacheClient.connect({
        address,
        tls: await readTlsFiles(certs, "client"),
      });
      try {
        assert.equal(await again.namespace("fd").getString("k"), "still here");
        break;
      } catch (error) {
        const code = (error as grpc.ServiceError).code;
        if (code !== grpc.status.UNAVAILABLE || attempt === 10) throw error;
      } finally {
        again.close();
      }
    }
    const scrape =
      await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const errors = scrape.split("\n").find((line) =>
      line.startsWith("ganache_accept_errors_total ")
    );
    assert.ok(Number(errors?.split(" ")[1]) >= 1, String(errors));
  } finally {
    conns.forEach((conn) => conn.close());
    await server.stop(5000);
    await Deno.remove(certs, { recursive: true });
  }
});

Deno.test("with the V8 heap capped at 300 MB, 300 Sets with distinct 1 MiB type URLs are INVALID_ARGUMENT and the process stays up", async () => {
  const certs = await makeCerts();
  const server = new GanacheProcess(
    "start",
    ["--port", "0", "--workers", "1", "--certs", certs],
    certs,
    { DENO_V8_FLAGS: "--max-old-space-size=300" },
  );
  let exited = false;
  server.exited.then(() => exited = true);
  try {
    const [, port] = await server.waitFor(
      /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
    );
    await server.waitFor(/worker shards of \d+ bytes are up/);
    const client = await GanacheClient.connect({
      address: `127.0.0.1:${port}`,
      tls: await readTlsFiles(certs, "client"),
    });
    try {
      const ns = client.namespace("heap");
      await ns.setString("kept", "before");
      for (let i = 0; i < 300; i++) {
        const typeUrl = `type.example/${i}/${"x".repeat(1 << 20)}`;
        await assert.rejects(
          ns.set("k", { typeUrl, value: new Uint8Array(16) }),
          (error: grpc.ServiceError) =>
            error.code === grpc.status.INVALID_ARGUMENT,
        );
      }
      assert.equal(await ns.getString("kept"), "before");
      assert.equal(await ns.get("k"), undefined);
      assert.equal(exited, false);
    } finally {
      client.close();
    }
  } finally {
    await server.stop(5000);
    await Deno.remove(certs, { recursive: true });
  }
});

/** Resolves when the server closes `conn`: a read ends or fails. */
async function closedByServer(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while (await conn.read(buffer) !== null) { /* skip what it sends */ }
  } catch {
    // a reset is a close too
  }
  conn.close();
}

Deno.test("the connection flags work on the command line and from GANACHE_*: a silent TCP connection and an idle TLS connection are closed", async () => {
  const certs = await makeCerts();
  const server = new GanacheProcess(
    "start",
    [
      ...["--port", "0", "--workers", "1", "--certs", certs],
      ...["--tls-handshake-timeout-ms", "500"],
    ],
    certs,
    { GANACHE_IDLE_TIMEOUT_MS: "1000" },
  );
  try {
    const [, port] = await server.waitFor(
      /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
    );
    const tls = await readTlsFiles(certs, "client");
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: +port! });
    const idle = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: +port!,
      caCerts: [text(tls.ca)],
      cert: text(tls.cert),
      key: text(tls.key),
      alpnProtocols: ["h2"],
    });
    await idle.handshake();
    // Each read ends when the server closes the connection; the defaults
    // (10 s, 300 s) would keep them far longer than this test waits.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("not closed within 60 s: flags ignored?")),
        60_000,
      );
    });
    try {
      await Promise.race([
        Promise.all([silent, idle].map(closedByServer)),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await server.stop(5000);
    await Deno.remove(certs, { recursive: true });
  }
});
