/**
 * The Redis comparison: redis-server with TLS on a free loopback port,
 * measured with redis-benchmark GET (unpipelined), using the same
 * development certificates as Ganache.
 *
 * @module
 */
import { ChildProcess, freePort, onPath } from "./load_process.ts";

/** What the Redis comparison measured, or why it did not run. */
export interface RedisResult {
  /** GET requests per second, when it ran. */
  getOpsPerSec?: number;
  /** Median GET latency in milliseconds, as redis-benchmark reports it. */
  p50Ms?: number;
  /** GETs sent. */
  requests?: number;
  /** redis-benchmark clients (`-c`). */
  clients: number;
  /** Why it did not run. */
  skipped?: string;
}

/** What {@linkcode runRedisComparison} measures. */
export interface RedisSpec {
  /** A directory with `ca.crt`, `cfe.crt` and `cfe.key`. */
  certs: string;
  /** redis-benchmark clients (`-c`): connections × in flight. */
  clients: number;
  /** Value size (`-d`). */
  valueBytes: number;
  /** About how long the measured GET run should take. */
  seconds: number;
}

/** Reads `GET: 76863.95 requests per second, p50=0.423 msec`. */
export function parseRedisBenchmark(
  text: string,
  test = "GET",
): { opsPerSec: number; p50Ms?: number } {
  const lines = text.split(/[\r\n]+/);
  const line = lines.findLast((l) =>
    l.startsWith(`${test}: `) && l.includes("requests per second")
  );
  const match = line &&
    /: ([\d.]+) requests per second(?:, p50=([\d.]+) msec)?/.exec(line);
  if (!match) {
    throw new Error(`redis-benchmark printed no ${test} result:\n${text}`);
  }
  return {
    opsPerSec: Number(match[1]),
    ...(match[2] === undefined ? {} : { p50Ms: Number(match[2]) }),
  };
}

/**
 * Starts redis-server, writes the key redis-benchmark reads, measures GET
 * and stops redis-server. Missing programs are reported, not thrown.
 *
 * @throws {Error} when redis-server does not start or redis-benchmark fails.
 */
export async function runRedisComparison(
  spec: RedisSpec,
): Promise<RedisResult> {
  const missing = [];
  for (const program of ["redis-server", "redis-benchmark"]) {
    if (!await onPath(program)) missing.push(program);
  }
  if (missing.length > 0) {
    return {
      clients: spec.clients,
      skipped: `${
        missing.join(" and ")
      } not found on PATH (Debian: apt-get install redis-server redis-tools)`,
    };
  }
  const port = freePort();
  const server = new ChildProcess(
    "redis-server",
    "redis-server",
    [
      ["--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1"],
      ["--tls-cert-file", `${spec.certs}/cfe.crt`],
      ["--tls-key-file", `${spec.certs}/cfe.key`],
      ["--tls-ca-cert-file", `${spec.certs}/ca.crt`],
      ["--tls-auth-clients", "no", "--save", "", "--appendonly", "no"],
      ["--dir", spec.certs, "--maxclients", String(spec.clients + 100)],
    ].flat(),
  );
  try {
    await server.waitFor(/Ready to accept connections/, 20_000);
    const bench = (args: string[]) =>
      redisBenchmark([
        ["--tls", "--cacert", `${spec.certs}/ca.crt`],
        ["-h", "127.0.0.1", "-p", String(port), "-c", String(spec.clients)],
        ["-d", String(spec.valueBytes), "-q"],
        args,
      ].flat());
    // Without -r every request uses the one key `key:__rand_int__`: SET
    // it, so that the GETs find a value of the same size.
    await bench(["-t", "set", "-n", "1000"]);
    const probe = parseRedisBenchmark(
      await bench(["-t", "get", "-n", "20000"]),
    );
    const requests = Math.max(
      20_000,
      Math.round(probe.opsPerSec * spec.seconds),
    );
    const measured = parseRedisBenchmark(
      await bench(["-t", "get", "-n", String(requests)]),
    );
    return {
      getOpsPerSec: Math.round(measured.opsPerSec),
      ...(measured.p50Ms === undefined ? {} : { p50Ms: measured.p50Ms }),
      requests,
      clients: spec.clients,
    };
  } finally {
    await server.stop(5000);
  }
}

/** Runs redis-benchmark (killed after 5 minutes); resolves with its stdout. */
async function redisBenchmark(args: string[]): Promise<string> {
  const child = new Deno.Command("redis-benchmark", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }, 300_000);
  const out = await child.output().finally(() => clearTimeout(timer));
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `redis-benchmark ${args.join(" ")} failed (${out.code}):\n${text}${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return text;
}
