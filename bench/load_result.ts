/**
 * The result of one load run, whoever generated the load, and the latency
 * histogram it is summarised from.
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";
import type { Mix } from "./load_args.ts";

/** Latency in milliseconds; `null` where the generator does not report it. */
export interface Latency {
  /** Median. */
  p50: number | null;
  /** 90th percentile. */
  p90: number | null;
  /** 99th percentile. */
  p99: number | null;
  /** Slowest request. */
  max: number;
  /** Mean. */
  mean: number;
}

/** What one load run measured. */
export interface RunResult {
  /** What was loaded: `ganache` or `echo` (the transport baseline). */
  target: "ganache" | "echo";
  /** Who generated the load: the JS client or h2load. */
  generator: "js" | "h2load";
  /** The operations actually sent (the echo baseline of the JS client is Get-only). */
  mix: Mix;
  /** Wall time of the measured part, in seconds. */
  seconds: number;
  /** Requests that succeeded. */
  ops: number;
  /** `ops / seconds`. */
  opsPerSec: number;
  /** Keys read or written per second: a MultiGet counts its keys. */
  keysPerSec: number;
  /** Requests that failed. */
  errors: number;
  /** Failed requests by gRPC status name (JS client only). */
  errorsByCode: Record<string, number>;
  /** The first error's message, if any. */
  firstError?: string;
  /** Keys read that were found (JS client: as answered; h2load: from Stats). */
  hits?: number;
  /** Keys read that were not found. */
  misses?: number;
  /** Latency of the successful requests. */
  latencyMs: Latency;
  /** Why the run stopped before its duration or count, if it did. */
  stoppedEarly?: string;
}

/** A histogram of latencies in microseconds, from 1 µs to 1 hour. */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

/** Records `ms` milliseconds into a histogram of microseconds. */
export function recordMs(histogram: hdr.Histogram, ms: number): void {
  histogram.recordValue(
    Math.min(3_600_000_000, Math.max(1, Math.round(ms * 1000))),
  );
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** p50/p90/p99/max/mean in milliseconds from a histogram of microseconds. */
export function summarise(histogram: hdr.Histogram): Latency {
  const ms = (us: number) => round3(us / 1000);
  if (histogram.totalCount === 0) {
    return { p50: null, p90: null, p99: null, max: 0, mean: 0 };
  }
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
  };
}

/** Keys touched by one request of each operation, averaged over the mix. */
export function keysPerOp(mix: Mix, multigetKeys: number): number {
  return mix.get + mix.set + mix.multiget * multigetKeys;
}
