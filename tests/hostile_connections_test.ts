/**
 * Hostile connections: TCP connections that never finish TLS, idle TLS
 * connections, more connections than allowed, and more concurrent streams
 * than allowed. The server closes or refuses them, counts them, and keeps
 * serving correct data.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as http2 from "node:http2";
import { GanacheClient } from "../shared/client.ts";
import { startTestService, type TestService } from "./helpers.ts";
import { sample, scrape } from "./prometheus.ts";

/** The value of an unlabelled sample in a Prometheus scrape (0 if absent). */
async function metric(t: TestService, name: string): Promise<number> {
  const port = t.service.metricsPort!;
  return sample(await scrape(`http://127.0.0.1:${port}/metrics`), name);
}

/** Polls `condition` every 50 ms until it holds (the test's timeout bounds it). */
async function until(condition: () => Promise<boolean> | boolean) {
  while (!await condition()) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Opens a raw TCP connection that sends nothing. */
function openTcp(port: number): Promise<Deno.Conn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/**
 * Resolves when the server closes `conn` (the test never does): a read
 * sees the end of the stream or a reset.
 */
async function closedByServer(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while (await conn.read(buffer) !== null) {
      // Whatever the server sends (TLS records, SETTINGS) is skipped.
    }
  } catch {
    // A reset is a close too.
  }
  conn.close();
}

/** Opens a TLS connection (h2, client certificate) that finishes the handshake and sends nothing. */
async function openTls(t: TestService, alpn = true): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: t.service.port,
    caCerts: [new TextDecoder().decode(t.clientTls.ca)],
    cert: new TextDecoder().decode(t.clientTls.cert),
    key: new TextDecoder().decode(t.clientTls.key),
    alpnProtocols: alpn ? ["h2"] : undefined,
  });
  await conn.handshake();
  return conn;
}

/** Writes a value, reads it back, and checks health: the server still serves. */
async function assertServes(t: TestService, key: string): Promise<void> {
  const client = await t.connect(true);
  const ns = client.namespace("hostile");
  await ns.setString(key, `value of ${key}`);
  assert.equal(await ns.getString(key), `value of ${key}`);
  client.close();
}

Deno.test("TCP connections that never finish TLS and idle TLS connections are closed by their timeouts; the open count returns to its baseline", async () => {
  await using t = await startTestService({
    metricsPort: 0,
    limits: { tlsHandshakeTimeoutMs: 500, idleTimeoutMs: 1000 },
  });
  assert.equal(await metric(t, "ganache_connections_open"), 0);
  const raw = await Promise.all(
    Array.from({ length: 200 }, () => openTcp(t.service.port)),
  );
  const idle = await Promise.all([
    ...Array.from({ length: 50 }, () => openTls(t)),
    ...Array.from({ length: 10 }, () => openTls(t, false)),
  ]);
  await until(async () => await metric(t, "ganache_connections_open") === 260);
  // Every one of them is closed by the server, seen from the client side.
  await Promise.all([...raw, ...idle].map(closedByServer));
  await until(async () => await metric(t, "ganache_connections_open") === 0);
  // Exactly the raw ones timed out in the handshake: a connection that
  // finished it is left to the idle timeout.
  assert.equal(await metric(t, "ganache_tls_handshake_timeouts_total"), 200);
  await assertServes(t, "after-timeouts");
});

Deno.test("--idle-timeout-ms closes a connection that only sends keepalive pings; the client's next call reconnects", async () => {
  await using t = await startTestService({
    metricsPort: 0,
    limits: { idleTimeoutMs: 1000 },
  });
  const client = await GanacheClient.connect({
    address: t.address,
    tls: t.clientTls,
    channelOptions: {
      "grpc.use_local_subchannel_pool": 1,
      "grpc.keepalive_time_ms": 200,
      "grpc.keepalive_permit_without_calls": 1,
    },
  });
  try {
    const ns = client.namespace("keepalive");
    await ns.setString("k", "v");
    assert.equal(await metric(t, "ganache_connections_open"), 1);
    // Pings every 200 ms are not calls: the server closes it when idle.
    await until(async () => await metric(t, "ganache_connections_open") === 0);
    assert.equal(await ns.getString("k"), "v");
  } finally {
    client.close();
  }
});

Deno.test("--max-connections: connections beyond the limit are closed at accept and counted; the server serves again once they go", async () => {
  await using t = await startTestService({
    metricsPort: 0,
    limits: { maxConnections: 20, tlsHandshakeTimeoutMs: 60_000 },
  });
  const held = await Promise.all(
    Array.from({ length: 20 }, () => openTcp(t.service.port)),
  );
  await until(async () => await metric(t, "ganache_connections_open") === 20);
  const extra = await Promise.all(
    Array.from({ length: 10 }, () => openTcp(t.service.port)),
  );
  await Promise.all(extra.map(closedByServer));
  assert.equal(await metric(t, "ganache_connections_refused_total"), 10);
  assert.equal(await metric(t, "ganache_connections_open"), 20);
  held.forEach((conn) => conn.close());
  await until(async () => await metric(t, "ganache_connections_open") === 0);
  await assertServes(t, "after-limit");
});

Deno.test("the server advertises --max-concurrent-streams; a client opening more streams has them queued and the server stays responsive", async () => {
  await using t = await startTestService({
    limits: { maxConcurrentStreams: 100 },
  });
  const session = http2.connect(`https://127.0.0.1:${t.service.port}`, {
    servername: "localhost",
    ca: Buffer.from(t.clientTls.ca),
    cert: Buffer.from(t.clientTls.cert),
    key: Buffer.from(t.clientTls.key),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      session.once("remoteSettings", () => resolve());
      session.once("error", reject);
    });
    assert.equal(session.remoteSettings.maxConcurrentStreams, 100);
    // 300 health checks whose requests are never finished: only 100 can be
    // open on the server, the client queues the rest.
    const streams = Array.from({ length: 300 }, () => {
      const stream = session.request({
        ":method": "POST",
        ":path": "/grpc.health.v1.Health/Check",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => {});
      return stream;
    });
    await assertServes(t, "while-streams-are-open");
    streams.forEach((stream) => stream.close());
  } finally {
    session.destroy();
  }
});
