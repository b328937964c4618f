/**
 * The load tool, `deno task load`: drives a Ganache frontend (its own, or
 * `--addr`) with Get/Set/MultiGet from the JS client or h2load, and reports
 * ops/s, keys/s, latency percentiles and errors; optionally against the
 * bare grpc-js echo server (`--baseline`) and redis-server (`--vs-redis`).
 * See `--help` and {@linkcode parseLoadArgs}.
 *
 * Exit code: 0 when the runs happened (whatever their errors), 1 when
 * setup failed, 2 on bad flags.
 *
 * @module
 */
import { ensureDevCerts } from "../shared/frontend/certs.ts";
import type { GanacheClient } from "../shared/client.ts";
import { setLogLevel } from "../shared/ops/log.ts";
import { readTlsFiles } from "../shared/frontend/tls.ts";
import type { AnyValue } from "../shared/wire/messages.ts";
import { LOAD_USAGE, type LoadOptions, parseLoadArgs } from "./load_args.ts";
import {
  openClients,
  preload,
  type Progress,
  runClientLoad,
  warmUp,
} from "./load_client.ts";
import { runH2load } from "./load_h2load.ts";
import {
  onPath,
  type ServerProcess,
  startEcho,
  startGanache,
} from "./load_process.ts";
import { runRedisComparison } from "./load_redis.ts";
import { formatReport, type LoadReport, reportConfig } from "./load_report.ts";
import type { RunResult } from "./load_result.ts";
import {
  fixedGet,
  fixedMultiGet,
  type FixedRequest,
  makeValue,
} from "./load_wire.ts";

/** Things to undo at the end, last first. */
type Cleanup = () => Promise<void> | void;

/** Writes a progress line on stderr: rewritten in place on a terminal. */
function progressLine(enabled: boolean): (text: string) => void {
  if (!enabled) return () => {};
  const encoder = new TextEncoder();
  const tty = Deno.stderr.isTerminal();
  return (text) =>
    Deno.stderr.writeSync(
      encoder.encode(tty ? `\r\x1b[K${text}` : `${text}\n`),
    );
}

/** Ends a progress line that was rewritten in place. */
function endProgress(enabled: boolean): void {
  if (enabled && Deno.stderr.isTerminal()) {
    Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
  }
}

/** The JS client's progress callback for a run labelled `name`. */
function clientProgress(
  name: string,
  show: (text: string) => void,
): (p: Progress) => void {
  return (p) =>
    show(
      `${name}: ${p.seconds.toFixed(0)} s, ${
        Math.round(p.ops / p.seconds).toLocaleString("en-US")
      } ops/s so far, ${p.errors} errors`,
    );
}

/** Runs h2load while a progress line counts the seconds. */
async function h2loadWithProgress(
  name: string,
  show: (text: string) => void,
  run: () => Promise<RunResult>,
): Promise<RunResult> {
  const start = performance.now();
  const ticker = setInterval(
    () =>
      show(
        `${name} (h2load): ${
          ((performance.now() - start) / 1000).toFixed(0)
        } s (h2load reports at the end)`,
      ),
    1000,
  );
  try {
    return await run();
  } finally {
    clearInterval(ticker);
  }
}

/** The request h2load repeats, from the mix (which parseLoadArgs checked). */
function fixedRequest(options: LoadOptions, value: AnyValue): FixedRequest {
  return options.mix.multiget > 0
    ? fixedMultiGet(value, options.keys, options.multigetKeys, options.hitRate)
    : fixedGet(value, options.keys, options.hitRate === 1);
}

/**
 * Sets up, runs every measurement the options ask for, and tears down.
 *
 * @throws {Error} when setup fails (a server that does not start or answer,
 * h2load missing, unreadable certificates).
 */
async function measure(
  options: LoadOptions,
  cleanups: Cleanup[],
  signal: AbortSignal,
): Promise<LoadReport> {
  const show = progressLine(!options.json);
  const notes: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "ganache-load-" });
  cleanups.push(() => Deno.remove(dir, { recursive: true }));
  const needCerts = options.addr === undefined || options.baseline ||
    options.vsRedis;
  if (needCerts) await ensureDevCerts(dir);
  if (options.h2load && !await onPath("h2load")) {
    throw new Error(
      "--h2load needs h2load on PATH (Debian: apt-get install nghttp2-client)",
    );
  }

  const value = makeValue(options.valueBytes);
  const request = options.h2load ? fixedRequest(options, value) : undefined;
  const serve = async (start: () => Promise<ServerProcess>) => {
    const server = await start();
    cleanups.push(() => server.process.stop(6000));
    return server;
  };

  // The frontend: --addr, or one started here.
  let address = options.addr;
  let tls;
  if (address === undefined) {
    const ganache = await serve(() => startGanache(dir, !options.h2load));
    address = `127.0.0.1:${ganache.port}`;
    tls = await readTlsFiles(dir, "client");
  } else {
    tls = await readTlsFiles(options.certs, "client");
  }
  const clientCount = options.h2load ? 1 : options.connections;
  const clients = await openClients(address, tls, clientCount);
  const closeAll = (list: GanacheClient[]) => () =>
    list.forEach((c) => c.close());
  cleanups.push(closeAll(clients));
  show(`connecting to ${address}`);
  await warmUp(clients).catch((error) => {
    throw new Error(`cannot reach ${address}: ${error.message}`);
  });
  if (options.hitRate > 0) {
    show(`preloading ${options.keys} keys of ${options.valueBytes} bytes`);
    await preload(clients, options.keys, value);
  }

  // The echo server, started before any measurement.
  let echo: ServerProcess | undefined;
  if (options.baseline) {
    const reply = request?.reply ?? fixedGet(value, options.keys, true).reply;
    echo = await serve(() => startEcho(dir, reply, !options.h2load));
  }

  const runs = {
    js: async (
      name: "ganache" | "echo",
      list: GanacheClient[],
      mix: LoadOptions["mix"],
    ) => {
      const spec = {
        clients: list,
        target: name,
        inFlight: options.inFlight,
        duration: options.duration,
        ...(options.requests === undefined
          ? {}
          : { requests: options.requests }),
        mix,
        multigetKeys: options.multigetKeys,
        keys: options.keys,
        hitRate: options.hitRate,
        value,
        signal,
      };
      if (options.requests === undefined) {
        // As h2load's --warm-up-time 1: let the JIT and the connection
        // warm up before measuring.
        show(`${name}: warming up for 1 s`);
        await runClientLoad({ ...spec, duration: 1 });
      }
      return await runClientLoad({
        ...spec,
        onProgress: clientProgress(name, show),
      });
    },
    h2load: async (name: "ganache" | "echo", origin: string) => {
      const bodyFile = `${dir}/request.bin`;
      await Deno.writeFile(bodyFile, request!.body);
      return await h2loadWithProgress(name, show, () =>
        runH2load({
          origin,
          target: name,
          request: request!,
          // The echo server serves only Get; it answers any body alike.
          path: name === "echo" ? "/ganache.cfe.CFE/Get" : request!.path,
          bodyFile,
          connections: options.connections,
          inFlight: options.inFlight,
          duration: options.duration,
          ...(options.requests === undefined
            ? {}
            : { requests: options.requests }),
        }));
    },
  };

  const ganache = options.h2load
    ? await runs.h2load("ganache", `https://${address}`)
    : await runs.js("ganache", clients, options.mix);
  if (options.h2load) {
    notes.push(
      "h2load percentiles come from its per-request log (--log-file)",
    );
  }

  let baseline: LoadReport["baseline"];
  if (echo && !signal.aborted) {
    let result: RunResult;
    if (options.h2load) {
      result = await runs.h2load("echo", `https://127.0.0.1:${echo.port}`);
      notes.push(
        "the echo server answers the same request body with a reply of the same bytes as Ganache's",
      );
    } else {
      const echoTls = await readTlsFiles(dir, "client");
      const echoClients = await openClients(
        `127.0.0.1:${echo.port}`,
        echoTls,
        options.connections,
      );
      cleanups.push(closeAll(echoClients));
      await warmUp(echoClients).catch((error) => {
        throw new Error(`cannot reach the echo server: ${error.message}`);
      });
      result = await runs.js("echo", echoClients, {
        get: 1,
        set: 0,
        multiget: 0,
      });
      notes.push(
        "with the JS client the echo baseline is Get-only (the echo server answers only Get), whatever the mix",
      );
    }
    baseline = {
      ...result,
      ratio: result.opsPerSec > 0
        ? Math.round(100 * ganache.opsPerSec / result.opsPerSec) / 100
        : 0,
    };
  }

  let redis: LoadReport["redis"];
  if (options.vsRedis && !signal.aborted) {
    show("redis: measuring GET with redis-benchmark");
    const clientsTotal = options.connections * options.inFlight;
    try {
      const result = await runRedisComparison({
        certs: dir,
        clients: clientsTotal,
        valueBytes: options.valueBytes,
        seconds: options.requests === undefined
          ? Math.min(10, Math.max(2, options.duration))
          : 5,
      });
      redis = result.getOpsPerSec
        ? {
          ...result,
          ratio: Math.round(100 * ganache.keysPerSec / result.getOpsPerSec) /
            100,
        }
        : result;
    } catch (error) {
      redis = {
        clients: clientsTotal,
        skipped: `failed: ${(error as Error).message}`,
      };
    }
  }
  endProgress(!options.json);

  return {
    ...ganache,
    config: reportConfig(options, address),
    ...(baseline ? { baseline } : {}),
    ...(redis ? { redis } : {}),
    notes,
  };
}

/** Runs the tool; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let options: LoadOptions;
  try {
    options = parseLoadArgs(argv);
  } catch (error) {
    console.error(`load: ${(error as Error).message}`);
    return 2;
  }
  if (options.help) {
    console.log(LOAD_USAGE);
    return 0;
  }
  setLogLevel("warn");
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) Deno.exit(130);
    abort.abort();
  };
  Deno.addSignalListener("SIGINT", onSigint);
  const cleanups: Cleanup[] = [];
  try {
    const report = await measure(options, cleanups, abort.signal);
    console.log(
      options.json ? JSON.stringify(report) : formatReport(report),
    );
    return 0;
  } catch (error) {
    endProgress(!options.json);
    console.error(`load: setup failed: ${(error as Error).message}`);
    return 1;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`load: cleanup: ${(error as Error).message}`);
      }
    }
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
