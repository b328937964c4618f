/**
 * One frontend thread for `bench/frontend_threads.ts`: a grpc-js TLS echo
 * server fed by its own `node:net` listener on a port shared with the other
 * threads (`reusePort`), through `createConnectionInjector`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import * as grpc from "@grpc/grpc-js";
import { createServer } from "node:net";
import { readTlsFiles, serverCredentials } from "../shared/frontend/tls.ts";
import { echoService } from "./echo_server.ts";

self.onmessage = async (
  event: MessageEvent<{ port: number; certs: string; reply: Uint8Array }>,
) => {
  const { port, certs, reply } = event.data;
  const server = new grpc.Server();
  server.addService(...echoService(reply));
  const injector = server.createConnectionInjector(
    serverCredentials(await readTlsFiles(certs, "cfe"), false),
  );
  createServer((socket) => injector.injectConnection(socket))
    .listen(
      { port, host: "127.0.0.1", reusePort: true },
      () => self.postMessage("ready"),
    );
};
