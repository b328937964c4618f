/**
 * The load tool (`deno task load`): its flag parsing, its parsers of
 * h2load and redis-benchmark output, and a short real run against a server
 * it starts itself.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LOAD_USAGE, parseLoadArgs, parseMix } from "../bench/load_args.ts";
import {
  h2loadArgs,
  type H2loadReport,
  type H2loadSpec,
  parseH2loadOutput,
  percentilesOfLog,
  toResult,
} from "../bench/load_h2load.ts";
import { fixedGet, fixedMultiGet, makeValue } from "../bench/load_wire.ts";
import { parseRedisBenchmark } from "../bench/load_redis.ts";
import { ROOT } from "./process_helpers.ts";

Deno.test("parseLoadArgs: defaults", () => {
  assert.deepEqual(parseLoadArgs([]), {
    help: false,
    certs: "certs",
    connections: 1,
    inFlight: 64,
    duration: 10,
    mix: { get: 0.9, set: 0.1, multiget: 0 },
    multigetKeys: 100,
    valueBytes: 100,
    keys: 10_000,
    hitRate: 1,
    json: false,
    baseline: false,
    h2load: false,
    vsRedis: false,
  });
});

Deno.test("parseLoadArgs: every flag", () => {
  assert.deepEqual(
    parseLoadArgs([
      ["--addr", "10.0.0.1:40001", "--certs", "/etc/ganache"],
      ["--connections", "4", "--in-flight", "16", "--duration", "2.5"],
      ["--requests", "1000", "--mix", "multiget=100"],
      ["--multiget-keys", "10", "--value-bytes", "0", "--keys", "50"],
      ["--hit-rate", "0.5", "--json", "--baseline", "--h2load"],
      ["--vs-redis", "--help"],
    ].flat()),
    {
      help: true,
      addr: "10.0.0.1:40001",
      certs: "/etc/ganache",
      connections: 4,
      inFlight: 16,
      duration: 2.5,
      requests: 1000,
      mix: { get: 0, set: 0, multiget: 1 },
      multigetKeys: 10,
      valueBytes: 0,
      keys: 50,
      hitRate: 0.5,
      json: true,
      baseline: true,
      h2load: true,
      vsRedis: true,
    },
  );
  assert.equal(parseLoadArgs(["--addr=[::1]:40001"]).addr, "[::1]:40001");
  assert.equal(parseLoadArgs(["-h"]).help, true);
  assert.equal(parseLoadArgs(["--hit-rate", "0"]).hitRate, 0);
  assert.equal(parseLoadArgs(["--hit-rate", "1"]).hitRate, 1);
});

Deno.test("parseLoadArgs: --requests wins, --duration stays as given", () => {
  const options = parseLoadArgs(["--duration", "3", "--requests", "5"]);
  assert.equal(options.requests, 5);
  assert.equal(options.duration, 3);
  assert.equal(parseLoadArgs([]).requests, undefined);
});

Deno.test("parseMix: ratios are normalised, missing ones are 0", () => {
  assert.deepEqual(parseMix("get=90,set=10,multiget=0"), {
    get: 0.9,
    set: 0.1,
    multiget: 0,
  });
  assert.deepEqual(parseMix("get=1,set=1,multiget=2"), {
    get: 0.25,
    set: 0.25,
    multiget: 0.5,
  });
  assert.deepEqual(parseMix("set=3"), { get: 0, set: 1, multiget: 0 });
  assert.deepEqual(parseMix(" GET = 8 , multiget = 2 "), {
    get: 0.8,
    set: 0,
    multiget: 0.2,
  });
  assert.deepEqual(parseMix("get=0.5,set=.5"), {
    get: 0.5,
    set: 0.5,
    multiget: 0,
  });
});

Deno.test("parseLoadArgs: bad values are refused, naming the flag", () => {
  const refuses = (argv: string[], pattern: RegExp) =>
    assert.throws(() => parseLoadArgs(argv), (error: Error) => {
      assert.match(error.message, /^Cannot parse load flags: /);
      assert.match(error.message, pattern);
      return true;
    }, argv.join(" "));
  refuses(
    ["--mix", "get=x"],
    /--mix: get needs a non-negative number: received "x"/,
  );
  refuses(["--mix", "get=-1"], /--mix: get needs a non-negative number/);
  refuses(["--mix", "get="], /--mix: get needs a non-negative number/);
  refuses(["--mix", "get"], /--mix takes name=ratio pairs/);
  refuses(["--mix", "get=1,,set=1"], /--mix takes name=ratio pairs/);
  refuses(["--mix", "del=1"], /unknown operation "del"/);
  refuses(["--mix", "get=1,get=2"], /--mix names get twice/);
  refuses(["--mix", "get=0,set=0"], /every ratio is 0/);
  refuses(
    ["--hit-rate", "2"],
    /--hit-rate must be a number from 0 to 1: received "2"/,
  );
  refuses(["--hit-rate", "-0.1"], /--hit-rate/);
  refuses(["--hit-rate", "half"], /--hit-rate/);
  refuses(["--connections", "0"], /--connections must be an integer from 1/);
  refuses(["--connections", "1.5"], /--connections/);
  refuses(["--in-flight", "0"], /--in-flight/);
  refuses(["--in-flight", "many"], /--in-flight/);
  refuses(
    ["--duration", "0"],
    /--duration must be a number of seconds above 0/,
  );
  refuses(["--duration", "1e3"], /--duration/);
  refuses(["--duration", ""], /--duration/);
  refuses(["--requests", "0"], /--requests must be an integer >= 1/);
  refuses(
    ["--multiget-keys", "10001"],
    /--multiget-keys must be an integer from 1 to 10000/,
  );
  refuses(["--value-bytes", "-1"], /--value-bytes/);
  refuses(["--keys", "0"], /--keys/);
  refuses(["--addr", "localhost"], /--addr must be host:port/);
  refuses(["--certs", "certs"], /--certs goes with --addr/);
  refuses(["--frobnicate"], /unknown flag --frobnicate/);
  refuses(["--json=yes"], /--json/);
  refuses(["extra"], /unexpected argument "extra"/);
  refuses(["--duration"], /--duration/);
});

Deno.test("parseLoadArgs: --h2load needs one operation and one key set", () => {
  const h2load = (...argv: string[]) => parseLoadArgs(["--h2load", ...argv]);
  // Without --mix, h2load sends Gets.
  assert.deepEqual(h2load().mix, { get: 1, set: 0, multiget: 0 });
  assert.throws(
    () => h2load("--mix", "get=90,set=10"),
    /--mix must be get only or multiget only/,
  );
  assert.throws(
    () => h2load("--mix", "get=50,multiget=50"),
    /--mix must be get only or multiget only/,
  );
  assert.throws(
    () => h2load("--mix", "get=1", "--hit-rate", "0.5"),
    /--hit-rate must be 0 or 1/,
  );
  assert.equal(h2load("--mix", "get=1").h2load, true);
  assert.equal(h2load("--mix", "get=1", "--hit-rate", "0").hitRate, 0);
  assert.equal(h2load("--mix", "multiget=1", "--hit-rate", "0.3").hitRate, 0.3);
});

Deno.test("the usage names every flag", () => {
  for (
    const flag of [
      "--addr",
      "--certs",
      "--connections",
      "--in-flight",
      "--duration",
      "--requests",
      "--mix",
      "--multiget-keys",
      "--value-bytes",
      "--keys",
      "--hit-rate",
      "--json",
      "--baseline",
      "--h2load",
      "--vs-redis",
      "--help",
    ]
  ) {
    assert.match(LOAD_USAGE, new RegExp(`${flag}\\b`));
  }
});

Deno.test("parseH2loadOutput reads rates, counts, bytes and times", () => {
  const report = parseH2loadOutput(`
finished in 3.00s, 25967.00 req/s, 355.22KB/s
requests: 51934 total, 51934 started, 51934 done, 51930 succeeded, 4 failed, 0 errored, 0 timeout
status codes: 51930 2xx, 0 3xx, 2 4xx, 0 5xx
traffic: 710.44KB (727486) total, 316.91KB (324518) headers (space savings 96.91%), 1.2MB (1234567) data
                     min         max         mean         sd        +/- sd
time for request:      383us     40.95ms      2.46ms      3.22ms    91.61%
time for connect:        0us         0us         0us         0us     0.00%
`);
  assert.deepEqual(report, {
    reqPerSec: 25967,
    total: 51934,
    succeeded: 51930,
    failed: 4,
    non2xx: 2,
    dataBytes: 1234567,
    latencyMs: { min: 0.383, max: 40.95, mean: 2.46 },
  });
  assert.throws(() => parseH2loadOutput("connect failed"), /h2load printed no/);
});

Deno.test("h2load: flags, and gRPC failures counted from missing replies", () => {
  const value = makeValue(100);
  const spec: H2loadSpec = {
    origin: "https://127.0.0.1:1",
    target: "ganache",
    request: fixedMultiGet(value, 1000, 10, 1),
    path: "/ganache.cfe.CFE/MultiGet",
    bodyFile: "/tmp/body.bin",
    connections: 1,
    inFlight: 64,
    duration: 5,
  };
  const args = h2loadArgs(spec);
  assert.deepEqual(args.slice(0, 4), ["-c", "1", "-m", "64"]);
  assert.ok(args.join(" ").includes("-D 5 --warm-up-time 1"));
  assert.equal(args.at(-1), "https://127.0.0.1:1/ganache.cfe.CFE/MultiGet");
  assert.ok(h2loadArgs({ ...spec, requests: 9 }).join(" ").includes("-n 9"));

  const replyBytes = 5 + spec.request.reply.length;
  const report: H2loadReport = {
    reqPerSec: 200,
    total: 1000,
    succeeded: 1000,
    failed: 0,
    non2xx: 0,
    dataBytes: 1000 * replyBytes,
    latencyMs: { min: 0.1, max: 9, mean: 1 },
  };
  const ok = toResult(spec, report);
  assert.equal(ok.ops, 1000);
  assert.equal(ok.errors, 0);
  assert.equal(ok.opsPerSec, 200);
  assert.equal(ok.keysPerSec, 2000);
  assert.deepEqual(ok.mix, { get: 0, set: 0, multiget: 1 });
  // 400 calls answered with a grpc-status error carry no message.
  const failing = toResult(spec, { ...report, dataBytes: 600 * replyBytes });
  assert.equal(failing.ops, 600);
  assert.equal(failing.errors, 400);
  assert.deepEqual(failing.errorsByCode, { GRPC_NO_MESSAGE: 400 });
  // A Get of a missing key is a NOT_FOUND status by design, not an error.
  const miss = toResult(
    { ...spec, request: fixedGet(value, 1000, false) },
    { ...report, dataBytes: 0 },
  );
  assert.equal(miss.errors, 0);
  assert.equal(miss.ops, 1000);
});

Deno.test("parseRedisBenchmark reads the last GET line", () => {
  const text =
    "\rGET: rps=0.0 (overall: 0.0) avg_msec=-nan (overall: -nan)\r   \rGET: 76863.95 requests per second, p50=0.423 msec\n\n";
  assert.deepEqual(parseRedisBenchmark(text), {
    opsPerSec: 76863.95,
    p50Ms: 0.423,
  });
  assert.throws(() => parseRedisBenchmark("nothing"), /no GET result/);
});

Deno.test({
  name: "a 2-second run against a server it starts reports sane numbers",
  fn: async () => {
    const command = new Deno.Command(Deno.execPath(), {
      args: [
        ["run", "-A", "bench/load.ts", "--duration", "2", "--json"],
        ["--mix", "get=80,set=10,multiget=10", "--keys", "1000"],
      ].flat(),
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      // A hang guard, not a speed check: a stuck run fails instead of
      // holding the suite.
      signal: AbortSignal.timeout(120_000),
    });
    const out = await command.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const report = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.ok(report.ops > 0, `ops: ${report.ops}`);
    assert.equal(report.errors, 0, JSON.stringify(report.errorsByCode));
    const { p50, p90, p99, max } = report.latencyMs;
    assert.ok(
      p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max,
      `${p50} ${p90} ${p99} ${max}`,
    );
    assert.ok(
      report.keysPerSec >= report.opsPerSec,
      `keys/s ${report.keysPerSec} < ops/s ${report.opsPerSec}`,
    );
    // The run lasts its duration at least; how fast it went is for bench/.
    assert.ok(report.seconds >= 2, `${report.seconds} s`);
    // Every key read was preloaded.
    assert.ok(report.hits > 0);
    assert.equal(report.misses, 0);
    assert.deepEqual(report.config.mix, { get: 0.8, set: 0.1, multiget: 0.1 });
    // --json: no progress line.
    assert.doesNotMatch(stderr, /ops\/s so far/);
  },
});

Deno.test("percentilesOfLog reads h2load's per-request microseconds", () => {
  const log = Array.from(
    { length: 100 },
    (_, i) => `1700000000000000\t200\t${(i + 1) * 1000}`,
  )
    .join("\n");
  assert.deepEqual(percentilesOfLog(log), { p50: 51, p90: 91, p99: 100 });
  assert.equal(percentilesOfLog(""), null);
});
