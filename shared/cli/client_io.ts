/**
 * How the client commands talk to their caller: exit codes, the line a
 * miss prints, and the stdin/stdout/stderr they use (tests swap them).
 *
 * @module
 */

/** Exit code of a client command that found nothing. */
export const EXIT_MISS = 1;
/** Exit code of a client command that failed. */
export const EXIT_ERROR = 2;

/** What a miss prints. */
export const NOT_FOUND = "(not found)";

/** How a command reads its input and writes its output (tests swap them). */
export interface CommandIo {
  /** The whole of stdin. */
  stdin(): Promise<Uint8Array>;
  /** Writes to stdout. */
  out(bytes: Uint8Array | string): Promise<void>;
  /** Writes to stderr. */
  err(text: string): Promise<void>;
}

const encoder = new TextEncoder();

async function writeAll(
  writer: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array | string,
): Promise<void> {
  let bytes = typeof data === "string" ? encoder.encode(data) : data;
  while (bytes.length > 0) bytes = bytes.subarray(await writer.write(bytes));
}

/** The process's own stdin, stdout and stderr. */
export const PROCESS_IO: CommandIo = {
  stdin: () => new Response(Deno.stdin.readable).bytes(),
  out: (data) => writeAll(Deno.stdout, data),
  err: (text) => writeAll(Deno.stderr, text),
};

/**
 * Prints {@linkcode NOT_FOUND} on stderr.
 *
 * @returns {@linkcode EXIT_MISS}.
 */
export async function miss(io: CommandIo): Promise<number> {
  await io.err(`${NOT_FOUND}\n`);
  return EXIT_MISS;
}
