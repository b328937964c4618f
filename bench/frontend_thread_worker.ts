/**
 * One frontend thread for `bench/frontend_threads.ts`: a grpc-js TLS echo
 * server fed by its own `node:net` listener on a port shared with the other
 * threads (`reusePort`), through `createConnectionInjector`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { createServer } from "node:net";
import { readTlsFiles, serverCredentials } from "../shared/tls.ts";

self.onmessage = async (
  event: MessageEvent<{ port: number; certs: string; reply: Uint8Array }>,
) => {
  const { port, certs, reply } = event.data;
  const identity = (bytes: Buffer) => bytes;
  const server = new grpc.Server();
  server.addService({
    Get: {
      path: "/ganache.cfe.CFE/Get",
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  }, {
    Get: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.from(reply)),
  });
  const injector = server.createConnectionInjector(
    serverCredentials(await readTlsFiles(certs, "cfe"), false),
  );
  createServer((socket) => injector.injectConnection(socket))
    .listen(
      { port, host: "127.0.0.1", reusePort: true },
      () => self.postMessage("ready"),
    );
};
