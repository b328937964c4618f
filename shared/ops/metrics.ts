/**
 * Prometheus metrics (`npm:prom-client`), and the HTTP endpoint that serves
 * them with `/healthz` and `/readyz`. Each server owns its own registry, so
 * several servers in one process (tests) keep separate counts.
 *
 * @module
 */
import client from "prom-client";
import { logger } from "./log.ts";
import type { Shard } from "../wire/shard.ts";
import type { ShardCounters } from "../wire/messages.ts";

const log = logger("metrics");

/** Reads every shard's counters; a shard that does not answer has none. */
export function shardStatsOf(shards: readonly Shard[]): ShardSource {
  return () =>
    Promise.all(shards.map(async (shard, index) => ({
      shard: String(index),
      counters: await shard.stats().catch(() => undefined),
    })));
}

/** Where per-shard counters come from at scrape time. */
export interface ShardSource {
  /** Labels of each shard (e.g. `{ shard: "0" }`) with its counters. */
  (): Promise<{ shard: string; counters: ShardCounters | undefined }[]>;
}

/** Request, cache, cluster and TLS metrics of one server. */
export class Metrics {
  /** The registry to scrape. */
  readonly registry = new client.Registry();
  readonly #sources: (() => Promise<
    client.MetricObjectWithValues<client.MetricValue<string>>[]
  >)[] = [];
  /** Requests by service, method and gRPC status code. */
  readonly requests: client.Counter<"service" | "method" | "code">;
  /** Request latency by service and method, in seconds. */
  readonly latency: client.Histogram<"service" | "method">;
  /** Reads that failed over from a replica to the next, by shard. */
  readonly failovers: client.Counter<"shard">;
  /** TLS handshakes that failed (bad or missing client certificates, ...). */
  readonly tlsHandshakeFailures: client.Counter;
  #etcdUp: client.Gauge | undefined;

  /** @param shards Per-shard counters, read at each scrape. */
  constructor(shards?: ShardSource) {
    const registers = [this.registry];
    this.requests = new client.Counter({
      name: "ganache_requests_total",
      help: "gRPC requests by service, method and status code",
      labelNames: ["service", "method", "code"],
      registers,
    });
    this.latency = new client.Histogram({
      name: "ganache_request_duration_seconds",
      help: "gRPC request latency by service and method",
      labelNames: ["service", "method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.failovers = new client.Counter({
      name: "ganache_replica_failovers_total",
      help: "Reads that moved to another replica after one failed",
      labelNames: ["shard"],
      registers,
    });
    this.tlsHandshakeFailures = new client.Counter({
      name: "ganache_tls_handshake_failures_total",
      help: "TLS handshakes that failed",
      registers,
    });
    new client.Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory of the process, every thread included",
      registers,
      // Every frontend thread reports the same process: never sum them.
      aggregator: "max",
      collect() {
        this.set(Deno.memoryUsage().rss);
      },
    });
    if (shards) this.#shardMetrics(shards);
  }

  /**
   * 1 while etcd answers, 0 while it does not. Registered on first use, so
   * that only roles that talk to etcd (`cfe`, `shard`) export it.
   */
  get etcdUp(): client.Gauge {
    return this.#etcdUp ??= new client.Gauge({
      name: "ganache_etcd_up",
      help: "1 while etcd answers, 0 while it does not",
      registers: [this.registry],
    });
  }

  /**
   * Exports `ganache_gc_paced_collections_total`, the full collections the
   * GC pacer asked for (see `gc_pacer.ts`), read from `count` at each scrape.
   */
  countPacedCollections(count: () => number): void {
    new client.Counter({
      name: "ganache_gc_paced_collections_total",
      help: "Full garbage collections asked for by the pacer (--gc-step)",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(count());
      },
    });
  }

  /** Counts one finished request. */
  observe(
    service: string,
    method: string,
    code: number,
    seconds: number,
  ): void {
    this.requests.inc({ service, method, code: String(code) });
    this.latency.observe({ service, method }, seconds);
  }

  /** The metrics in Prometheus text format. */
  async scrape(): Promise<string> {
    if (this.#sources.length === 0) return this.registry.metrics();
    const parts = await Promise.all([
      this.registry.getMetricsAsJSON(),
      ...this.#sources.map((source) => source()),
    ]);
    return client.AggregatorRegistry.aggregate(parts).metrics();
  }

  /**
   * Adds the metrics of another thread (its registry as JSON) to every
   * scrape: counters and histograms with the same labels are summed.
   */
  addSource(
    source: () => Promise<
      client.MetricObjectWithValues<client.MetricValue<string>>[]
    >,
  ): void {
    this.#sources.push(source);
  }

  #shardMetrics(shards: ShardSource): void {
    const registers = [this.registry];
    // One read of every shard per scrape, shared by all the shard metrics.
    let pending: ReturnType<ShardSource> | undefined;
    const read = () => pending ??= shards().finally(() => pending = undefined);
    const fields: [keyof ShardCounters, string, string][] = [
      ["hits", "ganache_cache_hits_total", "Reads that found a value"],
      ["misses", "ganache_cache_misses_total", "Reads that found nothing"],
      [
        "evictions",
        "ganache_cache_evictions_total",
        "Entries removed to make room",
      ],
      [
        "expirations",
        "ganache_cache_expirations_total",
        "Entries removed because their TTL ran out",
      ],
      ["items", "ganache_cache_items", "Entries held"],
      [
        "bytes",
        "ganache_cache_bytes",
        "Bytes of memory the entries take: chunks and index",
      ],
      ["capacityBytes", "ganache_cache_capacity_bytes", "The byte budget"],
      ["indexBytes", "ganache_cache_index_bytes", "Bytes of the hash index"],
      [
        "arenaBytes",
        "ganache_cache_arena_bytes",
        "Bytes of the arena ever handed out (resident)",
      ],
    ];
    for (const [field, name, help] of fields) {
      const isCounter = name.endsWith("_total");
      const config = {
        name,
        help: `${help}, by shard`,
        labelNames: ["shard"] as const,
        registers,
      };
      if (isCounter) {
        new client.Counter({
          ...config,
          async collect() {
            this.reset();
            for (const { shard, counters } of await read()) {
              if (counters) this.inc({ shard }, counters[field]);
            }
          },
        });
      } else {
        new client.Gauge({
          ...config,
          async collect() {
            this.reset();
            for (const { shard, counters } of await read()) {
              if (counters) this.set({ shard }, counters[field]);
            }
          },
        });
      }
    }
  }
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The port it listens on. */
  port: number;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text), `/healthz` (200 while the process
 * runs) and `/readyz` (200 while `ready()` holds, else 503) over HTTP.
 */
export function serveMetrics(
  options: { host: string; port: number },
  metrics: Metrics,
  ready: () => boolean,
): MetricsServer {
  const server = Deno.serve({
    hostname: options.host,
    port: options.port,
    onListen: () => {},
  }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/metrics") {
      return new Response(await metrics.scrape(), {
        headers: { "content-type": metrics.registry.contentType },
      });
    }
    if (path === "/healthz") return new Response("ok\n");
    if (path === "/readyz") {
      return ready()
        ? new Response("ready\n")
        : new Response("not ready\n", { status: 503 });
    }
    return new Response("not found\n", { status: 404 });
  });
  const port = (server.addr as Deno.NetAddr).port;
  log.info(
    `metrics on http://${options.host}:${port}/metrics (also /healthz, /readyz)`,
  );
  return { port, close: () => server.shutdown() };
}
