/**
 * Runs the program as a user does, for the tests of `deno task` command
 * lines: a task typed in a directory of the user's, a certificates folder
 * start may write to, and a `start` server in its own process.
 *
 * @module
 */
import { GanacheProcess, ROOT } from "./process_helpers.ts";

const decoder = new TextDecoder();

/** What a finished command printed. */
export interface Output {
  /** The exit code. */
  code: number;
  /** Stdout as text. */
  stdout: string;
  /** Stderr as text. */
  stderr: string;
  /** Stdout as bytes. */
  bytes: Uint8Array;
}

/** Options of {@linkcode task}. */
export interface TaskOptions {
  /** Where the user typed the command. @default the repository */
  cwd?: string;
  /** What to pipe to stdin. */
  stdin?: string | Uint8Array;
}

/** Runs `deno task -q <name> ...args` as a user types it in `cwd`. */
export async function task(
  name: string,
  args: string[],
  options: TaskOptions = {},
): Promise<Output> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "--cwd", ROOT, name, ...args],
    cwd: options.cwd ?? ROOT,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(
      typeof options.stdin === "string"
        ? new TextEncoder().encode(options.stdin)
        : options.stdin,
    );
    await writer.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    bytes: out.stdout,
  };
}

/** A fresh folder under the repository's certs/, the one place start may write. */
export function certsFolderInRepo(): Promise<string> {
  return Deno.makeTempDir({ dir: `${ROOT}certs`, prefix: ".test-" });
}

/** Starts `start` (exact task line) and resolves with it and its port. */
export async function startServer(
  args: string[],
): Promise<{ server: GanacheProcess; port: string }> {
  const server = new GanacheProcess(
    "start",
    ["--port", "0", "--workers", "2", ...args],
    "",
  );
  const [, port] = await server.waitFor(
    /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
  );
  return { server, port: port! };
}
