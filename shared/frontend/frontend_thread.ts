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
  ToFrontendThread,
} from "./frontend_thread_protocol.ts";
import { setLogFormat, setLogLevel } from "../ops/log.ts";
import { Metrics } from "../ops/metrics.ts";
import { PortShard } from "../shards/port_shard.ts";
import { Router } from "../shards/router.ts";

let shards: PortShard[] = [];
let frontend: Frontend | undefined;
let metrics: Metrics | undefined;

function post(message: FromFrontendThread): void {
  self.postMessage(message);
}

// Set before any await: messages that arrive earlier would be lost.
self.onmessage = async (event: MessageEvent<ToFrontendThread>) => {
  const message = event.data;
  switch (message.kind) {
    case "init": {
      setLogLevel(message.logLevel);
      setLogFormat(message.logFormat);
      shards = message.shards.map((link, index) =>
        new PortShard(index, link.port, link.restarts)
      );
      metrics = new Metrics();
      frontend = await startFrontend(
        { ...message.options, metricsPort: undefined },
        new Router(shards),
        metrics,
        { sharedPort: true },
      );
      frontend.health.setAll("SERVING");
      post({ kind: "ready" });
      return;
    }
    case "shard":
      shards[message.index]?.replace(message.link.port, message.link.restarts);
      return;
    case "metrics":
      post({
        kind: "metrics",
        metrics: await metrics?.registry.getMetricsAsJSON() ?? [],
      });
      return;
    case "close":
      await frontend?.close();
      await Promise.all(shards.map((shard) => shard.close()));
      post({ kind: "closed" });
  }
};
