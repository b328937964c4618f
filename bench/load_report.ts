/**
 * The load tool's report: one object (printed as JSON with `--json`) and
 * its text form.
 *
 * @module
 */
import type { LoadOptions, Mix } from "./load_args.ts";
import type { RunResult } from "./load_result.ts";
import type { RedisResult } from "./load_redis.ts";

/** The settings a report was made with. */
export interface ReportConfig {
  /** The frontend loaded. */
  addr: string;
  /** Whether the tool started the frontend itself. */
  startedHere: boolean;
  /** `js` or `h2load`. */
  generator: "js" | "h2load";
  /** Connections. */
  connections: number;
  /** Requests in flight per connection. */
  inFlight: number;
  /** Seconds per run (when `requests` is absent). */
  duration: number;
  /** Requests per run, when given. */
  requests: number | null;
  /** The share of each operation asked for. */
  mix: Mix;
  /** Keys per MultiGet. */
  multigetKeys: number;
  /** Bytes per value. */
  valueBytes: number;
  /** Key space. */
  keys: number;
  /** Share of reads that ask for a preloaded key. */
  hitRate: number;
}

/** The echo baseline's result and how Ganache compares to it. */
export interface BaselineReport extends RunResult {
  /** Ganache ops/s divided by echo ops/s. */
  ratio: number;
}

/** The Redis comparison and how Ganache compares to it. */
export interface RedisReport extends RedisResult {
  /** Ganache keys/s divided by Redis GET ops/s. */
  ratio?: number;
}

/** Everything one `deno task load` measured: Ganache's result at the top. */
export interface LoadReport extends RunResult {
  /** The settings. */
  config: ReportConfig;
  /** With `--baseline`. */
  baseline?: BaselineReport;
  /** With `--vs-redis`. */
  redis?: RedisReport;
  /** Things the reader should know (e.g. what the baseline sends). */
  notes: string[];
}

/** The config part of a report, from the options. */
export function reportConfig(
  options: LoadOptions,
  addr: string,
): ReportConfig {
  return {
    addr,
    startedHere: options.addr === undefined,
    generator: options.h2load ? "h2load" : "js",
    connections: options.connections,
    inFlight: options.inFlight,
    duration: options.duration,
    requests: options.requests ?? null,
    mix: options.mix,
    multigetKeys: options.multigetKeys,
    valueBytes: options.valueBytes,
    keys: options.keys,
    hitRate: options.hitRate,
  };
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number | null) => n === null ? "-" : n.toFixed(2);

/** `get=90% set=10%`: the operations with a share above 0. */
export function formatMix(mix: Mix): string {
  return Object.entries(mix)
    .filter(([, share]) => share > 0)
    .map(([name, share]) => `${name}=${Math.round(share * 1000) / 10}%`)
    .join(" ");
}

function formatRun(name: string, run: RunResult): string[] {
  const lat = run.latencyMs;
  const reads = (run.hits ?? 0) + (run.misses ?? 0);
  const hits = reads > 0
    ? `  hits ${(100 * (run.hits ?? 0) / reads).toFixed(1)}%`
    : "";
  const lines = [
    `${name.padEnd(8)}${int(run.opsPerSec).padStart(10)} ops/s${
      int(run.keysPerSec).padStart(11)
    } keys/s  latency ms p50 ${ms(lat.p50)} p90 ${ms(lat.p90)} p99 ${
      ms(lat.p99)
    } max ${ms(lat.max)}  errors ${int(run.errors)}${hits}`,
  ];
  if (run.errors > 0) {
    lines.push(
      `${"".padEnd(8)}errors by status: ${
        JSON.stringify(run.errorsByCode)
      }; first: ${run.firstError ?? "?"}`,
    );
  }
  if (run.stoppedEarly) {
    lines.push(`${"".padEnd(8)}stopped early: ${run.stoppedEarly}`);
  }
  return lines;
}

/** The report as text, a few lines. */
export function formatReport(report: LoadReport): string {
  const c = report.config;
  const length = c.requests === null
    ? `${c.duration} s`
    : `${int(c.requests)} requests`;
  const lines = [
    `Ganache at ${c.addr}${c.startedHere ? " (started here)" : ""}, ${
      c.generator === "js" ? "JS client" : "h2load"
    }: ${c.connections} connection${
      c.connections === 1 ? "" : "s"
    } x ${c.inFlight} in flight, ${length}, mix ${formatMix(c.mix)}${
      c.mix.multiget > 0 ? ` (${c.multigetKeys} keys each)` : ""
    }, ${c.valueBytes}-byte values, ${int(c.keys)} keys, hit rate ${c.hitRate}`,
    ...formatRun("ganache", report),
  ];
  if (report.baseline) {
    lines.push(...formatRun("echo", report.baseline));
    lines.push(
      `ganache / echo ops/s: ${report.baseline.ratio.toFixed(2)}  (echo: ${
        formatMix(report.baseline.mix)
      })`,
    );
  }
  const redis = report.redis;
  if (redis?.getOpsPerSec !== undefined) {
    lines.push(
      `${"redis".padEnd(8)}${
        int(redis.getOpsPerSec).padStart(10)
      } GET ops/s (redis-benchmark, ${redis.clients} clients, TLS, unpipelined, ${
        int(redis.requests ?? 0)
      } GETs${redis.p50Ms === undefined ? "" : `, p50 ${redis.p50Ms} ms`})`,
      `ganache keys/s / redis GET ops/s: ${redis.ratio?.toFixed(2)}`,
    );
  } else if (redis?.skipped) {
    lines.push(`redis   skipped: ${redis.skipped}`);
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join("\n");
}
