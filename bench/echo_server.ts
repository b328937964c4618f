/**
 * The transport baseline: a bare grpc-js TLS server that answers
 * `/ganache.cfe.CFE/Get` with fixed reply bytes, without decoding the
 * request, routing or storing anything. What it serves is the ceiling of
 * one grpc-js server thread on this machine.
 *
 * Usage: deno run -A bench/echo_server.ts --port P --certs DIR --reply-bytes N
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { startGrpcServer } from "../shared/frontend/grpc_server.ts";
import { onShutdownSignal } from "../shared/ops/signals.ts";
import { readTlsFiles, serverCredentials } from "../shared/frontend/tls.ts";

/** Options of {@linkcode startEchoServer}. */
export interface EchoServerOptions {
  /** The port; 0 picks a free one. */
  port: number;
  /** Where `ca.crt`, `cfe.crt` and `cfe.key` are. */
  certs: string;
  /** The encoded GetResponse to answer with. */
  reply: Uint8Array;
  /** Whether clients must present a certificate. */
  clientAuth: boolean;
}

/** Starts the echo server; resolves with its port and a stop function. */
export async function startEchoServer(options: EchoServerOptions) {
  const tls = await readTlsFiles(options.certs, "cfe");
  return await startGrpcServer({
    host: "127.0.0.1",
    port: options.port,
    credentials: serverCredentials(tls, options.clientAuth),
    maxMessageBytes: 64 * 1024 * 1024,
    services: [echoService(options.reply)],
  });
}

/**
 * The echo service: `/ganache.cfe.CFE/Get` answered with `reply`, the
 * request left undecoded.
 */
export function echoService(
  reply: Uint8Array,
): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const bytes = Buffer.from(reply);
  const identity = (data: Buffer) => data;
  const definition: grpc.ServiceDefinition = {
    Get: {
      path: "/ganache.cfe.CFE/Get",
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  return [definition, {
    Get: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, bytes),
  }];
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "0" },
      certs: { type: "string", default: "certs" },
      "reply-hex": { type: "string", default: "" },
      "no-client-auth": { type: "boolean" },
    },
  });
  const server = await startEchoServer({
    port: Number(values.port),
    certs: values.certs,
    reply: Uint8Array.from(
      values["reply-hex"].match(/../g) ?? [],
      (hex) => parseInt(hex, 16),
    ),
    clientAuth: !values["no-client-auth"],
  });
  console.error(`echo server listening on 127.0.0.1:${server.port}`);
  await onShutdownSignal();
  await server.shutdown(1000);
}
