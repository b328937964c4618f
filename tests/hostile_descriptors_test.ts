/**
 * Running out of file descriptors: `start` under `ulimit -n 256` is sent
 * more idle TCP connections than it has descriptors. It logs and counts
 * it, and accepts again once they are closed: health answers and data
 * reads back.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { GanacheClient } from "../shared/client.ts";
import {
  clientCredentials,
  readTlsFiles,
  tlsChannelOptions,
} from "../shared/frontend/tls.ts";
import { HEALTH_SERVICE } from "../shared/wire/services.ts";
import { makeCerts } from "./helpers.ts";
import { ChildProcess, taskArgs } from "./process_helpers.ts";

/** The health of the server at `address`, as a status name. */
async function healthOf(address: string, certs: string): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(HEALTH_SERVICE, "Health");
  const client = new Health(
    address,
    clientCredentials(await readTlsFiles(certs, "client")),
    tlsChannelOptions(address),
  );
  const check = (client as unknown as {
    Check(
      request: { service: string },
      options: grpc.CallOptions,
      callback: (
        error: grpc.ServiceError | null,
        r?: { status: string },
      ) => void,
    ): void;
  }).Check.bind(client);
  try {
    return await new Promise<string>((resolve, reject) =>
      check(
        { service: "" },
        { deadline: Date.now() + 5000 },
        (error, response) => error ? reject(error) : resolve(response!.status),
      )
    );
  } finally {
    client.close();
  }
}

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

    assert.equal(await healthOf(address, certs), "SERVING");
    const client = await GanacheClient.connect({
      address,
      tls: await readTlsFiles(certs, "client"),
    });
    try {
      const ns = client.namespace("fd");
      await ns.setString("k", "still here");
      assert.equal(await ns.getString("k"), "still here");
    } finally {
      client.close();
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
