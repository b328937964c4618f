/**
 * The entry module of an extra frontend thread (`--frontend-threads`): a
 * Web Worker that serves `ganache.cfe.CFE` on the port the main thread
 * listens on (`reusePort`), routing to the main thread's shard workers over
 * message ports.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type Frontend, startFrontend } from "./frontend.ts";
import type {
  FromFrontendThread,
  ThreadRequest,
  ToFrontendThread,
} from "./frontend_thread_protocol.ts";
import { setLogFormat, setLogLevel } from "../ops/log.ts";
import { Metrics } from "../ops/metrics.ts";
import { PortShard } from "../shards/port_shard.ts";
import { Router } from "../shards/router.ts";

let shards: PortShard[] = [];
let frontend: Frontend | undefined;
let metrics: Metrics | undefined;
/** What the main thread last said of the shards. */
let serving: "SERVING" | "NOT_SERVING" = "SERVING";

function post(message: FromFrontendThread): void {
  self.postMessage(message);
}

/** Answers one request; a failure is answered too, never thrown away. */
async function answer(request: ThreadRequest): Promise<FromFrontendThread> {
  switch (request.kind) {
    case "init": {
      setLogLevel(request.logLevel);
      setLogFormat(request.logFormat);
      shards = request.shards.map((link, index) =>
        new PortShard(index, link.port, link.restarts)
      );
      metrics = new Metrics();
      frontend = await startFrontend(
        { ...request.options, metricsPort: undefined },
        new Router(shards),
        metrics,
        { sharedPort: true },
      );
      frontend.health.setAll(serving);
      return { kind: "ready", id: request.id };
    }
    case "metrics":
      return {
        kind: "metrics",
        id: request.id,
        metrics: await metrics?.registry.getMetricsAsJSON() ?? [],
      };
    case "link":
      shards[request.index]?.replace(request.link.port, request.link.restarts);
      return { kind: "linked", id: request.id };
    case "close":
      await frontend?.close();
      await Promise.all(shards.map((shard) => shard.close()));
      return { kind: "closed", id: request.id };
  }
}

// Set before any await: messages that arrive earlier would be lost.
self.onmessage = (event: MessageEvent<ToFrontendThread>) => {
  const message = event.data;
  if (message.kind === "down") {
    shards[message.index]?.down();
    return;
  }
  if (message.kind === "health") {
    serving = message.status;
    frontend?.health.setAll(serving);
    return;
  }
  answer(message).then(post, (error: unknown) =>
    post({
      kind: "failed",
      id: message.id,
      message: error instanceof Error ? error.message : String(error),
    }));
};
