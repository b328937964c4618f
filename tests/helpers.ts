/**
 * Test helpers: a real embedded service on port 0 with fresh certificates.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import type { AnyValue } from "../shared/wire/messages.ts";
import { GanacheClient } from "../shared/client.ts";
import { ensureDevCerts } from "../shared/frontend/certs.ts";
import { setLogLevel } from "../shared/ops/log.ts";
import {
  readTlsFiles,
  tlsChannelOptions,
  type TlsFiles,
} from "../shared/frontend/tls.ts";
import {
  type StartedService,
  type StartOptions,
  startService,
} from "../roles/start.ts";

setLogLevel("error");

/** A running service and what a test needs to reach it. */
export interface TestService extends AsyncDisposable {
  /** The service. */
  service: StartedService;
  /** `127.0.0.1:<port>`. */
  address: string;
  /** The certificates directory (CA, cfe, client). */
  certs: string;
  /** The client's PEM files. */
  clientTls: TlsFiles;
  /**
   * Opens a client with the development client certificate.
   * @param ownConnection Open a connection of its own instead of sharing one.
   */
  connect(ownConnection?: boolean): Promise<GanacheClient>;
  /** Stops the service and removes its certificates. */
  close(): Promise<void>;
}

/** A directory with a fresh development CA and leaves. */
export async function makeCerts(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ganache-certs-" });
  await ensureDevCerts(dir);
  return dir;
}

/**
 * Starts the embedded service on 127.0.0.1 port 0 with 2 workers and
 * fresh certificates; `overrides` change any option.
 */
export async function startTestService(
  overrides: Partial<StartOptions> = {},
): Promise<TestService> {
  const certs = overrides.certs ?? await makeCerts();
  const service = await startService({
    host: "127.0.0.1",
    port: 0,
    workers: 2,
    maxBytes: 64 * 1024 * 1024,
    maxValueBytes: 4 * 1024 * 1024,
    clientAuth: true,
    shutdownGraceMs: 2000,
    ...overrides,
    certs,
  });
  const address = `127.0.0.1:${service.port}`;
  const clientTls = await readTlsFiles(certs, "client");
  const clients: GanacheClient[] = [];
  const close = async () => {
    clients.forEach((client) => client.close());
    await service.close();
    await Deno.remove(certs, { recursive: true });
  };
  return {
    service,
    address,
    certs,
    clientTls,
    connect: async (ownConnection = false) => {
      const client = await GanacheClient.connect({
        address,
        tls: clientTls,
        channelOptions: ownConnection
          ? { "grpc.use_local_subchannel_pool": 1 }
          : {},
      });
      clients.push(client);
      return client;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The gRPC status code of a rejected promise (fails if it resolves). */
export async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "number") return code;
    throw error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Asserts that an `Any` value has exactly this type URL and these bytes. */
export function assertAny(
  actual: AnyValue | undefined,
  expected: AnyValue,
): void {
  assert.ok(actual, `expected ${expected.typeUrl}, got a miss`);
  assert.equal(actual.typeUrl, expected.typeUrl);
  assert.deepEqual(Array.from(actual.value), Array.from(expected.value));
}

/**
 * Sends raw request bytes to a method with the given credentials and
 * resolves with the gRPC status code of the answer (0 for OK).
 */
export async function rawCallStatus(
  address: string,
  credentials: grpc.ChannelCredentials,
  path: string,
  body: Uint8Array,
): Promise<number> {
  return (await rawCall(address, credentials, path, body)).code;
}

/** Like {@linkcode rawCallStatus}, with the status details too. */
export function rawCall(
  address: string,
  credentials: grpc.ChannelCredentials,
  path: string,
  body: Uint8Array,
): Promise<{ code: number; details: string }> {
  const client = new grpc.Client(
    address,
    credentials,
    tlsChannelOptions(address),
  );
  const identity = (bytes: Buffer) => bytes;
  return new Promise<{ code: number; details: string }>((resolve) =>
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      Buffer.from(body),
      { deadline: Date.now() + 5000 },
      (error) =>
        resolve({ code: error?.code ?? 0, details: error?.details ?? "" }),
    )
  ).finally(() => client.close());
}

/** TLS credentials that trust `ca` and present no client certificate. */
export function noClientCert(ca: Uint8Array): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(ca));
}
