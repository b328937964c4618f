/** The health service's bounds, on a real gRPC server. */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { makeCerts } from "../../tests/helpers.ts";
import { HEALTH_SERVICE } from "../wire/services.ts";
import { startGrpcServer } from "./grpc_server.ts";
import { HealthService } from "./health.ts";
import {
  clientCredentials,
  readTlsFiles,
  serverCredentials,
  tlsChannelOptions,
} from "./tls.ts";

type HealthClient = grpc.Client & {
  Watch(request: { service: string }): grpc.ClientReadableStream<
    { status: string }
  >;
};

/** The first message or the error of a Watch stream. */
function firstOf(
  stream: grpc.ClientReadableStream<{ status: string }>,
): Promise<string | number> {
  return new Promise((resolve) => {
    stream.once(
      "data",
      (message: { status: string }) => resolve(message.status),
    );
    stream.once("error", (error: grpc.ServiceError) => resolve(error.code));
  });
}

Deno.test("HealthService refuses Watch streams beyond maxWatchers and service names over 256 characters", async () => {
  const certs = await makeCerts();
  const health = new HealthService(["svc"], { maxWatchers: 2 });
  const server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    credentials: serverCredentials(await readTlsFiles(certs, "cfe"), true),
    maxMessageBytes: 1 << 20,
    services: [[HEALTH_SERVICE, health.implementation()]],
  });
  const address = `127.0.0.1:${server.port}`;
  const Health = grpc.makeGenericClientConstructor(HEALTH_SERVICE, "Health");
  const client = new Health(
    address,
    clientCredentials(await readTlsFiles(certs, "client")),
    tlsChannelOptions(address),
  ) as unknown as HealthClient;
  try {
    const open = [
      client.Watch({ service: "svc" }),
      client.Watch({ service: "x" }),
    ];
    assert.deepEqual(await Promise.all(open.map(firstOf)), [
      "NOT_SERVING",
      "SERVICE_UNKNOWN",
    ]);
    assert.equal(
      await firstOf(client.Watch({ service: "svc" })),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    open.forEach((stream) => {
      stream.on("error", () => {});
      stream.cancel();
    });
    while (health.watching.watchers > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(
      await firstOf(client.Watch({ service: "s".repeat(257) })),
      grpc.status.INVALID_ARGUMENT,
    );
    const again = client.Watch({ service: "svc" });
    assert.equal(await firstOf(again), "NOT_SERVING");
    again.on("error", () => {});
    again.cancel();
  } finally {
    client.close();
    health.close();
    await server.shutdown(1000);
    await Deno.remove(certs, { recursive: true });
  }
});
