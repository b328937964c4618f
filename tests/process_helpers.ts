/**
 * Running Ganache as a user does: the commands of the tasks in deno.json,
 * in child processes, with their permission flags.
 *
 * @module
 */
import assert from "node:assert/strict";

/** The repository root. */
export const ROOT = new URL("..", import.meta.url).pathname;

const TASKS: Record<string, string> = JSON.parse(
  await Deno.readTextFile(`${ROOT}deno.json`),
).tasks;

/**
 * A task's command line as `deno` arguments, with the `certs` directory of
 * its `--allow-read` and `--allow-write` lists pointed at `certs`.
 */
export function taskArgs(task: string, certs: string): string[] {
  const words = TASKS[task]!.replaceAll("'", "").split(/\s+/);
  assert.equal(words[0], "deno");
  return words.slice(1).map((word) =>
    /^--allow-(read|write)=/.test(word)
      ? word.replace(/([=,])certs(?=,|$)/, `$1${certs}`)
      : word
  );
}

/** Yields the lines of a byte stream. */
export async function* lineReader(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    yield* lines;
  }
  if (buffered) yield buffered;
}

/** A Ganache process whose log lines are collected as they come. */
export class GanacheProcess {
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** Every log line so far. */
  readonly lines: string[] = [];
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  #waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  #pumped: Promise<void>;

  /**
   * Starts `deno <task command> ...args` in the repository.
   *
   * @param task The deno.json task whose command and permissions to use.
   * @param args Arguments after the task's command.
   * @param certs The certificates directory (where writes are allowed).
   * @param env Extra environment variables.
   */
  constructor(
    task: string,
    args: string[],
    certs: string,
    env: Record<string, string> = {},
  ) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [...taskArgs(task, certs), ...args],
      cwd: ROOT,
      env,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.#pumped = (async () => {
      for await (const line of lineReader(child.stderr)) {
        this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => {
          const match = line.match(w.pattern);
          if (match) w.resolve(match);
          return !match;
        });
      }
    })();
    this.exited = this.child.status.then((s) => s.code);
  }

  /**
   * Resolves with the first log line (past or future) that matches; rejects
   * if the process exits first or `timeoutMs` passes.
   */
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const match = line.match(pattern);
      if (match) return Promise.resolve(match);
    }
    const { promise, resolve, reject } = Promise.withResolvers<
      RegExpMatchArray
    >();
    this.#waiters.push({ pattern, resolve });
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `timed out waiting for ${pattern}; log:\n${this.lines.join("\n")}`,
          ),
        ),
      timeoutMs,
    );
    this.exited.then((code) =>
      reject(
        new Error(
          `process exited (${code}) before ${pattern}; log:\n${
            this.lines.join("\n")
          }`,
        ),
      )
    );
    return promise.finally(() => clearTimeout(timer));
  }

  /** Sends a signal (ignored if the process has exited). */
  kill(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch {
      // already exited
    }
  }

  /** Kills the process if it runs, and waits for its output to end. */
  async stop(): Promise<void> {
    this.kill("SIGKILL");
    await this.exited;
    await this.#pumped;
  }
}
