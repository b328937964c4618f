/**
 * The messages between the main thread and its extra frontend threads
 * (`--frontend-threads`).
 *
 * @module
 */
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { FrontendOptions } from "./frontend.ts";
import type { LogFormat, LogLevel } from "../ops/log.ts";

/** A frontend thread's channel to one shard worker. */
export interface ShardLink {
  /** This thread's end; the shard worker holds the other. */
  port: MessagePort;
  /** The shard worker's restart count so far. */
  restarts: number;
}

/** Messages to a frontend thread. */
export type ToFrontendThread =
  | {
    kind: "init";
    /** The frontend's options (its port is the shared one). */
    options: FrontendOptions;
    /** One link per shard, by index. */
    shards: ShardLink[];
    /** The main thread's log level. */
    logLevel: LogLevel;
    /** The main thread's log format. */
    logFormat: LogFormat;
  }
  | {
    /** A shard worker was replaced: use this link from now on. */
    kind: "shard";
    /** The shard's index. */
    index: number;
    /** The new link. */
    link: ShardLink;
  }
  | { kind: "metrics" }
  | { kind: "close" };

/** Messages from a frontend thread. */
export type FromFrontendThread =
  | { kind: "ready" }
  | {
    kind: "metrics";
    /** The thread's registry as JSON. */
    metrics: MetricObjectWithValues<MetricValue<string>>[];
  }
  | { kind: "closed" };
