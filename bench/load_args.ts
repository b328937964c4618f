/**
 * The flags of the load tool (`deno task load`), parsed and checked
 * without touching anything: {@linkcode parseLoadArgs} is pure.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The operations a load run sends. */
export const OPERATIONS = ["get", "set", "multiget"] as const;

/** One of {@linkcode OPERATIONS}. */
export type Operation = typeof OPERATIONS[number];

/** The share of each operation in a run; the shares add up to 1. */
export type Mix = Record<Operation, number>;

/** Everything a load run needs to know, from its flags. */
export interface LoadOptions {
  /** `--help`: print the usage and do nothing else. */
  help: boolean;
  /** `--addr`: a running frontend; absent: the tool starts one. */
  addr?: string;
  /** `--certs`: client certificates for `addr` (default `certs`). */
  certs: string;
  /** `--connections`: distinct connections. */
  connections: number;
  /** `--in-flight`: requests in flight per connection. */
  inFlight: number;
  /** `--duration`: seconds to run, unless `requests` is given. */
  duration: number;
  /** `--requests`: requests to send in all; wins over `duration`. */
  requests?: number;
  /**
   * `--mix`: the share of each operation, normalised to add up to 1
   * (default get=90,set=10; with `--h2load`, get=100).
   */
  mix: Mix;
  /** `--multiget-keys`: keys in each MultiGet. */
  multigetKeys: number;
  /** `--value-bytes`: bytes of each value. */
  valueBytes: number;
  /** `--keys`: the key space (preloaded when `hitRate > 0`). */
  keys: number;
  /** `--hit-rate`: the probability that a read asks for a preloaded key. */
  hitRate: number;
  /** `--json`: one JSON object on stdout, no progress line. */
  json: boolean;
  /** `--baseline`: also load the bare grpc-js echo server and compare. */
  baseline: boolean;
  /** `--h2load`: h2load generates the load instead of the JS client. */
  h2load: boolean;
  /** `--vs-redis`: also measure redis-server GET with redis-benchmark. */
  vsRedis: boolean;
}

/** The text `--help` prints. */
export const LOAD_USAGE = `Usage: deno task load [flags]

Loads a Ganache frontend with Get/Set/MultiGet and reports throughput and
latency. Without --addr it starts its own server (main.ts start) with fresh
certificates in a temporary directory, and stops it at the end.

  --addr HOST:PORT       a running frontend to load instead
  --certs DIR            client certificates for --addr (default: certs)
  --connections N        distinct connections (default: 1)
  --in-flight M          requests in flight per connection (default: 64)
  --duration SECONDS     how long to run (default: 10)
  --requests COUNT       how many requests to send (wins over --duration)
  --mix get=G,set=S,multiget=M
                         ratios of the operations (default: get=90,set=10;
                         with --h2load: get=100)
  --multiget-keys K      keys per MultiGet (default: 100)
  --value-bytes B        bytes per value (default: 100)
  --keys N               key space, preloaded before the run (default: 10000)
  --hit-rate R           0..1: share of reads that ask for a preloaded key
                         (default: 1; 0 skips the preload)
  --json                 print one JSON object at the end, no progress line
  --baseline             also run the same load against the bare grpc-js echo
                         server (bench/echo_server.ts) and print the ratio;
                         with the JS client the baseline is Get-only
  --h2load               generate the load with h2load (Get-only or
                         MultiGet-only mix; servers run --no-client-auth,
                         so --addr must name one started that way)
  --vs-redis             also measure redis-server GET over TLS with
                         redis-benchmark (connections x in-flight clients)
  --help                 this text
`;

const FLAGS = {
  addr: { type: "string" },
  certs: { type: "string" },
  connections: { type: "string" },
  "in-flight": { type: "string" },
  duration: { type: "string" },
  requests: { type: "string" },
  mix: { type: "string" },
  "multiget-keys": { type: "string" },
  "value-bytes": { type: "string" },
  keys: { type: "string" },
  "hit-rate": { type: "string" },
  json: { type: "boolean" },
  baseline: { type: "boolean" },
  h2load: { type: "boolean" },
  "vs-redis": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The largest MultiGet the server accepts (see README, Limits). */
const MAX_MULTIGET_KEYS = 10_000;

function fail(message: string): never {
  throw new Error(`Cannot parse load flags: ${message} (see --help)`);
}

function integer(
  flag: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? `an integer >= ${min}`
      : `an integer from ${min} to ${max}`;
    fail(`--${flag} must be ${range}: received "${text}"`);
  }
  return n;
}

function decimal(text: string): number {
  return /^(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : NaN;
}

/**
 * Parses `--mix`: comma-separated `operation=ratio` pairs, ratios being
 * non-negative numbers that need not add up to 100. Operations not named
 * get 0.
 *
 * @throws {Error} on an unknown or repeated operation, a ratio that is not
 * a number, or ratios that are all 0.
 */
export function parseMix(text: string): Mix {
  const ratios: Mix = { get: 0, set: 0, multiget: 0 };
  const seen = new Set<string>();
  for (const part of text.split(",")) {
    const match = /^\s*([a-z]+)\s*=\s*(\S*)\s*$/i.exec(part);
    if (!match) {
      fail(
        `--mix takes name=ratio pairs such as get=90,set=10: received "${text}"`,
      );
    }
    const name = match[1]!.toLowerCase();
    if (!(OPERATIONS as readonly string[]).includes(name)) {
      fail(
        `--mix: unknown operation "${match[1]}" (expected ${
          OPERATIONS.join(", ")
        })`,
      );
    }
    if (seen.has(name)) fail(`--mix names ${name} twice`);
    seen.add(name);
    const ratio = decimal(match[2]!);
    if (Number.isNaN(ratio)) {
      fail(
        `--mix: ${name} needs a non-negative number: received "${match[2]}"`,
      );
    }
    ratios[name as Operation] = ratio;
  }
  const total = ratios.get + ratios.set + ratios.multiget;
  if (total === 0) fail(`--mix: every ratio is 0 in "${text}"`);
  return {
    get: ratios.get / total,
    set: ratios.set / total,
    multiget: ratios.multiget / total,
  };
}

/**
 * Parses the load tool's flags.
 *
 * @param argv The arguments, without the program name.
 * @returns The options, with defaults filled in.
 * @throws {Error} naming the flag, on an unknown flag, a positional
 * argument, a value out of range or flags that do not go together.
 */
export function parseLoadArgs(argv: string[]): LoadOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: FLAGS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) fail(`unknown flag ${unknown[1]}`);
    const positional = /Unexpected argument '([^']*)'/.exec(message);
    if (positional) fail(`unexpected argument "${positional[1]}"`);
    fail(message.split(". ")[0]!.replace(/\.$/, ""));
  }
  const addr = values.addr;
  if (addr !== undefined && !/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(addr)) {
    fail(`--addr must be host:port: received "${addr}"`);
  }
  if (values.certs !== undefined && addr === undefined) {
    fail(
      "--certs goes with --addr (without --addr, fresh certificates are made)",
    );
  }
  let duration = 10;
  if (values.duration !== undefined) {
    duration = decimal(values.duration);
    if (!(duration > 0 && duration <= 86_400)) {
      fail(
        `--duration must be a number of seconds above 0 (at most 86400): received "${values.duration}"`,
      );
    }
  }
  let hitRate = 1;
  if (values["hit-rate"] !== undefined) {
    hitRate = decimal(values["hit-rate"]);
    if (!(hitRate >= 0 && hitRate <= 1)) {
      fail(
        `--hit-rate must be a number from 0 to 1: received "${
          values["hit-rate"]
        }"`,
      );
    }
  }
  const options: LoadOptions = {
    help: values.help ?? false,
    ...(addr === undefined ? {} : { addr }),
    certs: values.certs ?? "certs",
    connections: integer("connections", values.connections, 1, 1, 10_000),
    inFlight: integer("in-flight", values["in-flight"], 64, 1, 100_000),
    duration,
    ...(values.requests === undefined
      ? {}
      : { requests: integer("requests", values.requests, 0, 1) }),
    mix: parseMix(
      values.mix ?? (values.h2load ? "get=100" : "get=90,set=10,multiget=0"),
    ),
    multigetKeys: integer(
      "multiget-keys",
      values["multiget-keys"],
      100,
      1,
      MAX_MULTIGET_KEYS,
    ),
    valueBytes: integer(
      "value-bytes",
      values["value-bytes"],
      100,
      0,
      64 * 1024 * 1024,
    ),
    keys: integer("keys", values.keys, 10_000, 1, 100_000_000),
    hitRate,
    json: values.json ?? false,
    baseline: values.baseline ?? false,
    h2load: values.h2load ?? false,
    vsRedis: values["vs-redis"] ?? false,
  };
  if (options.h2load) checkH2load(options);
  return options;
}

/** h2load sends one request body over and over: one operation, one key set. */
function checkH2load(options: LoadOptions): void {
  const { mix } = options;
  if (mix.set > 0 || (mix.get > 0 && mix.multiget > 0)) {
    fail(
      "--h2load sends one request body over and over: --mix must be get only or multiget only (e.g. --mix get=100)",
    );
  }
  if (mix.get > 0 && options.hitRate > 0 && options.hitRate < 1) {
    fail(
      "--h2load with Gets asks for one key: --hit-rate must be 0 or 1",
    );
  }
}
