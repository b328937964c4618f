/**
 * The messages between the main thread and its extra frontend threads
 * (`--frontend-threads`). Every request carries an id and its reply the
 * same id, so replies are matched by id, never by arrival order.
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

/** Requests to a frontend thread, each answered once, with its id. */
export type ThreadRequest =
  | {
    kind: "init";
    /** Matches the reply. */
    id: number;
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
    kind: "metrics";
    /** Matches the reply. */
    id: number;
  }
  | {
    kind: "close";
    /** Matches the reply. */
    id: number;
  }
  | {
    /** A shard worker was replaced: use this link from now on. */
    kind: "link";
    /** Matches the reply. */
    id: number;
    /** The shard's index. */
    index: number;
    /** The new link. */
    link: ShardLink;
  };

/** Messages to a frontend thread. */
export type ToFrontendThread =
  | ThreadRequest
  | {
    /** A shard's worker died: fail its calls at once until a new link (no reply). */
    kind: "down";
    /** The shard's index. */
    index: number;
  }
  | {
    /** The shards' state changed: health says this from now on (no reply). */
    kind: "health";
    /** SERVING while every shard is ready. */
    status: "SERVING" | "NOT_SERVING";
  };

/** Messages from a frontend thread: the reply to the request with `id`. */
export type FromFrontendThread =
  | {
    /** `init` is done: the thread serves. */
    kind: "ready";
    /** The request's id. */
    id: number;
  }
  | {
    kind: "metrics";
    /** The request's id. */
    id: number;
    /** The thread's registry as JSON. */
    metrics: MetricObjectWithValues<MetricValue<string>>[];
  }
  | {
    /** `link` is done: calls to the shard go to the new worker. */
    kind: "linked";
    /** The request's id. */
    id: number;
  }
  | {
    /** `close` is done: calls drained. */
    kind: "closed";
    /** The request's id. */
    id: number;
  }
  | {
    /** The request failed. */
    kind: "failed";
    /** The request's id. */
    id: number;
    /** Why. */
    message: string;
  };
