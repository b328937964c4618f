/**
 * Running Ganache as a user does: the commands of the tasks in deno.json,
 * in child processes, with their permission flags.
 *
 * @module
 */
import assert from "node:assert/strict";

// `deno task test` sets INIT_CWD for the whole suite, and `deno task` keeps
// an INIT_CWD it inherits: children started in other folders would resolve
// their relative paths from the repository instead of from where they run.
Deno.env.delete("INIT_CWD");

/** The repository root. */
export const ROOT = new URL("..", import.meta.url).pathname;

const TASKS: Record<string, string> = JSON.parse(
  await Deno.readTextFile(`${ROOT}deno.json`),
).tasks;

/**
 * A task's command line as `deno` arguments, exactly as deno.json has it
 * (permission flags included: tests run what users run).
 *
 * @param task The deno.json task.
 * @param _certs Ignored: the tasks read certificates anywhere, so tests no
 * longer point the permission lists at their own folder.
 */
export function taskArgs(task: string, _certs?: string): string[] {
  const words = TASKS[task]!.replaceAll("'", "").split(/\s+/);
  assert.equal(words[0], "deno");
  return words.slice(1);
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

/** Options for {@linkcode ChildProcess}. */
export interface ChildProcessOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Where to run it. @default the repository root */
  cwd?: string;
}

/**
 * A child process in the repository whose output lines (stdout and stderr,
 * both read so it never blocks on a full pipe) are collected as they come.
 */
export class ChildProcess {
  /** What the process is, for messages. */
  readonly name: string;
  /** Every output line so far. */
  readonly lines: string[] = [];
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  readonly #child: Deno.ChildProcess;
  readonly #pumps: Promise<void>[];
  #waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  /** Starts `command args` (in the repository root unless `options.cwd`). */
  constructor(
    name: string,
    command: string,
    args: string[],
    options: ChildProcessOptions = {},
  ) {
    this.name = name;
    this.#child = new Deno.Command(command, {
      args,
      cwd: options.cwd ?? ROOT,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#pumps = [this.#child.stdout, this.#child.stderr].map((stream) =>
      this.#pump(stream)
    );
    this.exited = this.#child.status.then((status) => status.code);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const line of lineReader(stream)) {
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((waiter) => {
        const match = line.match(waiter.pattern);
        if (match) waiter.resolve(match);
        return !match;
      });
    }
  }

  /** The operating system's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The last 200 lines the process printed. */
  get log(): string {
    return this.lines.slice(-200).join("\n");
  }

  /**
   * Resolves with the first line (past or future) that matches `pattern`.
   *
   * @param fromLine Ignore the lines printed before this many (pass
   * `lines.length` to wait for a new line only).
   * @throws {Error} with the process's output when it exits first or
   * `timeoutMs` passes.
   */
  waitFor(
    pattern: RegExp,
    timeoutMs = 20_000,
    fromLine = 0,
  ): Promise<RegExpMatchArray> {
    for (const line of this.lines.slice(fromLine)) {
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
            `${this.name} did not print ${pattern} within ${timeoutMs} ms; its output:\n${this.log}`,
          ),
        ),
      timeoutMs,
    );
    this.exited.then((code) =>
      reject(
        new Error(
          `${this.name} exited (code ${code}) before printing ${pattern}; its output:\n${this.log}`,
        ),
      )
    );
    return promise.finally(() => clearTimeout(timer));
  }

  /** Sends a signal (ignored if the process has exited). */
  kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already exited
    }
  }

  /**
   * Stops the process and waits for its output to end: SIGKILL at once, or
   * SIGTERM first with `graceMs` to exit before SIGKILL.
   */
  async stop(graceMs?: number): Promise<void> {
    if (graceMs !== undefined) {
      this.kill("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([this.exited, late]);
      clearTimeout(timer);
    }
    this.kill("SIGKILL");
    await this.exited;
    await Promise.all(this.#pumps);
  }
}

/** A Ganache process started as a deno.json task starts it. */
export class GanacheProcess extends ChildProcess {
  /**
   * Starts `deno <task command> ...args` in the repository.
   *
   * @param task The deno.json task whose command and permissions to use.
   * @param args Arguments after the task's command.
   * @param _certs The certificates directory (unused: the task's own
   * permissions apply).
   * @param env Extra environment variables.
   */
  constructor(
    task: string,
    args: string[],
    _certs: string,
    env: Record<string, string> = {},
  ) {
    super(task, Deno.execPath(), [...taskArgs(task), ...args], { env });
  }
}
