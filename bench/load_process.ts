/**
 * Child processes of the load tool (the Ganache server, the echo server,
 * redis-server): started, watched for the log line that names their port,
 * and stopped, always within a bounded time.
 *
 * @module
 */
import { ChildProcess, ROOT, taskArgs } from "../tests/process_helpers.ts";

export { ChildProcess, ROOT };

/** The line `start` logs once it serves; group 1 is the port. */
export const GANACHE_READY = /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/;

/**
 * Waits until a `start` process serves with every worker shard up.
 *
 * @returns The port it serves on.
 */
export async function servingPort(server: ChildProcess): Promise<number> {
  const port = Number((await server.waitFor(GANACHE_READY))[1]);
  await server.waitFor(/worker shards of \d+ bytes are up/);
  return port;
}

/**
 * A task's command line with its `--v8-flags` replaced, to compare V8
 * settings against the task's own.
 *
 * @param task The task's words (see `taskArgs`).
 * @param flags The flags in its place: `undefined` keeps the task's own,
 * `""` runs V8 with none.
 */
export function withV8Flags(task: string[], flags?: string): string[] {
  if (flags === undefined) return task;
  const own = task.findIndex((word) => word.startsWith("--v8-flags="));
  const rest = own < 0 ? task : task.toSpliced(own, 1);
  return flags ? rest.toSpliced(1, 0, `--v8-flags=${flags}`) : rest;
}

/** The line `bench/echo_server.ts` logs once it serves; group 1 is the port. */
export const ECHO_READY = /echo server listening on 127\.0\.0\.1:(\d+)/;

/** A server child process and the port it serves on. */
export interface ServerProcess {
  /** The process. */
  process: ChildProcess;
  /** The port it listens on (127.0.0.1). */
  port: number;
}

/**
 * Starts a Deno program in the repository and waits for the line that
 * names its port.
 *
 * @throws {Error} with its output if it exits or does not get ready in 60 s;
 * the process is stopped then.
 */
export async function startDenoServer(
  name: string,
  args: string[],
  ready: RegExp,
): Promise<ServerProcess> {
  const process = new ChildProcess(name, Deno.execPath(), args);
  try {
    const match = await process.waitFor(ready, 60_000);
    return { process, port: Number(match[1]) };
  } catch (error) {
    await process.stop(1000);
    throw error;
  }
}

/**
 * Starts the embedded service on a free port, with the command line of
 * `deno task start` (its permissions and V8 flags).
 *
 * @param certs A directory with the development certificates.
 * @param clientAuth Whether clients must present a certificate.
 */
export function startGanache(
  certs: string,
  clientAuth: boolean,
): Promise<ServerProcess> {
  return startDenoServer(
    "the Ganache server (deno task start)",
    [
      taskArgs("start", certs),
      ["--port", "0", "--certs", certs],
      clientAuth ? [] : ["--no-client-auth"],
    ].flat(),
    GANACHE_READY,
  );
}

/**
 * Starts the bare grpc-js echo server (`bench/echo_server.ts`), which
 * answers every Get with `reply`.
 *
 * @param certs A directory with the development certificates.
 * @param reply The encoded response message it answers with.
 * @param clientAuth Whether clients must present a certificate.
 */
export function startEcho(
  certs: string,
  reply: Uint8Array,
  clientAuth: boolean,
): Promise<ServerProcess> {
  const hex = Array.from(reply, (b) => b.toString(16).padStart(2, "0"))
    .join("");
  return startDenoServer(
    "the echo server (bench/echo_server.ts)",
    [
      ["run", "-A", "bench/echo_server.ts", "--port", "0", "--certs", certs],
      ["--reply-hex", hex],
      clientAuth ? [] : ["--no-client-auth"],
    ].flat(),
    ECHO_READY,
  );
}

/** Whether `command` is a program on PATH. */
export async function onPath(command: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const info = await Deno.stat(`${dir}/${command}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
