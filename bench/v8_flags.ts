/**
 * What V8's garbage-collector flags cost the frontend: server CPU time per
 * Get and Gets per second of `deno task start`, with the task's own
 * `--v8-flags`, with none, and with each set given in their place, rounds
 * alternating, h2load with 64 Gets in flight. CPU time per request
 * is the steadier figure on a shared machine: contention slows requests
 * but adds little CPU to each.
 *
 * Run: deno run -A bench/v8_flags.ts
 *      [--sets "--max-semi-space-size=2,--heap-growing-percent=30;..."]
 *      [--requests 200000] [--rounds 2]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ensureDevCerts } from "../shared/frontend/certs.ts";
import { GanacheClient } from "../shared/client.ts";
import { ChildProcess, taskArgs } from "../tests/process_helpers.ts";
import { fixedGet, keyName, LOAD_NAMESPACE, makeValue } from "./load_wire.ts";
import { runH2load } from "./load_h2load.ts";
import { servingPort, withV8Flags } from "./load_process.ts";

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    sets: {
      type: "string",
      default: "--max-semi-space-size=2,--heap-growing-percent=30",
    },
    requests: { type: "string", default: "200000" },
    rounds: { type: "string", default: "2" },
  },
});
/** `undefined`: the task's own flags; "": none. */
const sets: (string | undefined)[] = [
  undefined,
  "",
  ...options.sets.split(";").filter(Boolean),
];
const requests = Number(options.requests);

/** User + system CPU time of a process so far, in milliseconds. */
function cpuMs(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!
    .split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const certs = await Deno.makeTempDir({ prefix: "ganache-v8-flags-" });
await ensureDevCerts(certs);
const value = makeValue(100);
const request = fixedGet(value, 1, true);
const bodyFile = await Deno.makeTempFile();
await Deno.writeFile(bodyFile, request.body);

/** Serves with `flags`, preloads the key, and measures `requests` Gets. */
async function measure(flags: string | undefined): Promise<string> {
  const task = taskArgs("start", certs);
  const own = task.find((word) => word.startsWith("--v8-flags="));
  const server = new ChildProcess("start", Deno.execPath(), [
    ...withV8Flags(task, flags),
    ...["--port", "0", "--certs", certs, "--no-client-auth"],
  ]);
  try {
    const port = await servingPort(server);
    const client = await GanacheClient.connect({
      address: `127.0.0.1:${port}`,
      certs,
    });
    await client.namespace(LOAD_NAMESPACE).set(keyName(0), value);
    client.close();
    const spec = {
      origin: `https://127.0.0.1:${port}`,
      target: "ganache" as const,
      request,
      path: request.path,
      bodyFile,
      connections: 1,
      inFlight: 64,
      duration: 0,
    };
    await runH2load({ ...spec, requests: requests / 10 }); // warm-up
    const before = cpuMs(server.pid);
    const result = await runH2load({ ...spec, requests });
    const perGet = (cpuMs(server.pid) - before) * 1000 / requests;
    const name = flags === undefined ? `task (${own ?? "none"})` : flags ||
      "(none)";
    return `${name}: ${perGet.toFixed(1)} µs CPU per Get, ${
      Math.round(result.opsPerSec)
    } Gets/s`;
  } finally {
    await server.stop(5_000);
  }
}

try {
  for (let round = 1; round <= Number(options.rounds); round++) {
    for (const flags of sets) {
      console.log(`round ${round} ${await measure(flags)}`);
    }
  }
} finally {
  await Deno.remove(certs, { recursive: true });
  await Deno.remove(bodyFile);
}
