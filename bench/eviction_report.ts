/**
 * What `eviction_load.ts` measures in one window, and how its rounds are
 * printed: one line per window, then per operation a table of the rounds
 * with the eviction workload's throughput and CPU per key as ratios to the
 * workload that fits, each pair measured back to back.
 *
 * @module
 */

/** One measured window. */
export interface Measurement {
  /** The round, from 1. */
  round: number;
  /** `set` or `multiset`. */
  op: string;
  /** `fits`: the keys fit, nothing is evicted; `churn`: every write evicts. */
  mode: "fits" | "churn";
  /** Distinct keys written in a cycle. */
  keys: number;
  /** Keys written per second. */
  keysPerSecond: number;
  /** Server CPU per key written, all threads, in µs. */
  serverUsPerKey: number;
  /** Of it, the main thread's (gRPC, TLS, the frontend). */
  mainUsPerKey: number;
  /** Of it, the shard workers'. */
  workersUsPerKey: number;
  /** Of it, the other threads' (V8's GC and compiler, the runtime). */
  otherUsPerKey: number;
  /** Cores the server used. */
  serverCores: number;
  /** How busy the server's main thread was (1: a whole core). */
  mainBusy: number;
  /** The client's CPU per key written, in µs. */
  clientUsPerKey: number;
  /** Cores that neither the server nor the client used but were busy. */
  othersCores: number;
  /** Evictions per key written, from `Stats`. */
  evictionsPerKey: number;
  /** Entries held after the window. */
  itemsAfter: number;
}

/** The run's setup, printed with the summary. */
export interface Setup {
  /** `--max-bytes` of the server. */
  maxBytes: string;
  /** `--workers` of the server. */
  workers: number;
  /** Keys the server held when it first evicted. */
  capacityKeys: number;
  /** Bytes of each value (before its Any wrapping). */
  valueBytes: number;
  /** The 1, 5 and 15 minute load averages before the rounds. */
  loadBefore: string;
  /** The same after them. */
  loadAfter: string;
}

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const fixed = (x: number, digits = 2) => x.toFixed(digits);

/** One window as a line of text. */
export function formatMeasurement(m: Measurement): string {
  return [
    `round ${m.round} ${m.op.padEnd(8)} ${m.mode.padEnd(5)}`,
    `${int(m.keysPerSecond).padStart(9)} keys/s`,
    `server ${fixed(m.serverUsPerKey)} µs/key (main ${
      fixed(m.mainUsPerKey)
    }, workers ${fixed(m.workersUsPerKey)}, other ${fixed(m.otherUsPerKey)})`,
    `${fixed(m.serverCores)} cores, main thread ${int(m.mainBusy * 100)} %`,
    `client ${fixed(m.clientUsPerKey)} µs/key`,
    `others ${fixed(m.othersCores)} cores`,
    `evictions/key ${fixed(m.evictionsPerKey)}`,
  ].join("  ");
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Per operation, a Markdown table of the rounds and the median ratios:
 * throughput (eviction ÷ no eviction) and CPU efficiency (server CPU per
 * key without eviction ÷ with it), both to hold ≥ 0.8.
 */
export function formatSummary(setup: Setup, ms: Measurement[]): string {
  const lines = [
    "",
    `start --max-bytes ${setup.maxBytes} --workers ${setup.workers}: ${
      int(setup.capacityKeys)
    } keys of ${setup.valueBytes}-byte values fill it; load average ${setup.loadBefore} before, ${setup.loadAfter} after`,
  ];
  for (const op of new Set(ms.map((m) => m.op))) {
    const rounds = [...new Set(ms.map((m) => m.round))].map((round) => {
      const of = (mode: string) =>
        ms.find((m) => m.op === op && m.round === round && m.mode === mode)!;
      return { round, fits: of("fits"), churn: of("churn") };
    });
    lines.push(
      "",
      `${op}: ${int(rounds[0]!.fits.keys)} keys (fit) vs ${
        int(rounds[0]!.churn.keys)
      } keys (evict)`,
      "| round | keys/s fit | keys/s evict | throughput ratio | server µs/key fit | evict | CPU ratio (fit ÷ evict) | workers µs/key fit → evict | main thread busy fit / evict | evictions/key |",
      "|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const { round, fits, churn } of rounds) {
      lines.push(
        `| ${round} | ${int(fits.keysPerSecond)} | ${
          int(churn.keysPerSecond)
        } | ${fixed(churn.keysPerSecond / fits.keysPerSecond)} | ${
          fixed(fits.serverUsPerKey)
        } | ${fixed(churn.serverUsPerKey)} | ${
          fixed(fits.serverUsPerKey / churn.serverUsPerKey)
        } | ${fixed(fits.workersUsPerKey)} → ${
          fixed(churn.workersUsPerKey)
        } | ${int(fits.mainBusy * 100)} % / ${int(churn.mainBusy * 100)} % | ${
          fixed(churn.evictionsPerKey)
        } |`,
      );
    }
    const throughput = rounds.map((r) =>
      r.churn.keysPerSecond / r.fits.keysPerSecond
    );
    const cpu = rounds.map((r) =>
      r.fits.serverUsPerKey / r.churn.serverUsPerKey
    );
    lines.push(
      "",
      `${op}: eviction ÷ no eviction, median of ${rounds.length} rounds: throughput ${
        fixed(median(throughput))
      } (min ${fixed(Math.min(...throughput))}), CPU efficiency ${
        fixed(median(cpu))
      } (min ${
        fixed(Math.min(...cpu))
      }); target ≥ 0.80; other processes used up to ${
        fixed(Math.max(
          ...ms.filter((m) => m.op === op).map((m) => m.othersCores),
        ))
      } cores`,
    );
  }
  return lines.join("\n");
}
