/**
 * Paces V8's full collections by the bytes a server moves.
 *
 * Every request a server reads arrives in fresh `ArrayBuffer`s (the TCP
 * read, the TLS record, the HTTP/2 frame, the gRPC message), and every
 * response leaves in one; they live outside the V8 heap and outlive the
 * young generation while calls are in flight. V8 collects them on its own
 * schedule only after tens of MiB have piled up: under a MultiSet flood
 * `start` grew 70 to 90 MiB beyond its data, more than a 64 MiB budget.
 * The pacer counts the bytes of every gRPC message of 1 KiB or more that
 * its server decodes or encodes, and asks for a full collection each time
 * `--gc-step` of them have passed, so the dead buffers never pile up beyond
 * a few steps.
 *
 * By default (`auto`) the step is 1/64 of `--max-bytes` (at least 1 MiB):
 * the working memory it allows grows with the budget, and the collections
 * it costs (10 to 20 ms of the serving thread each, on a frontend's heap)
 * get rarer as the budget grows. Gets of small values trigger none; large
 * writes pay for it. The README's Memory section has the figures.
 *
 * It needs V8's `gc` function (`--v8-flags=--expose-gc`, which the server
 * tasks, the compiled binary and the Docker image pass); without it
 * {@linkcode messageBytesPacer} only warns. They also pass
 * `--no-concurrent-array-buffer-sweeping`, so that a collection frees the
 * dead buffers before it returns rather than later on a helper thread.
 *
 * @module
 */
import type { Flag, FlagValues } from "../flags.ts";
import { parseSize } from "../flag_numbers.ts";
import { UsageError } from "../usage_error.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";

/**
 * The smallest message the pacer counts. Smaller ones (a Get and its
 * answer) leave little outside the V8 heap, and what they leave goes with
 * the collections V8 schedules for their objects on the heap; collecting
 * for them cost Gets 10 to 15 % of their throughput.
 */
const PACED_MESSAGE_BYTES = 1024;

/** Options of a {@linkcode GcPacer}. */
export interface GcPacerOptions {
  /** Bytes of messages between two collections. */
  stepBytes: number;
  /** Runs a full collection. */
  collect: () => void;
}

/**
 * Counts the bytes of the messages a server decodes and encodes, and
 * collects each time a step of them has passed.
 */
export class GcPacer {
  /** Full collections it has asked for. */
  collections = 0;
  readonly #step: number;
  readonly #collect: () => void;
  #counted = 0;

  /** @param options How many bytes trigger a collection, and how to collect. */
  constructor(options: GcPacerOptions) {
    const { stepBytes } = options;
    if (!(stepBytes > 0)) {
      throw new RangeError(
        `Cannot pace collections: stepBytes must be positive: received ${stepBytes}`,
      );
    }
    this.#step = stepBytes;
    this.#collect = options.collect;
  }

  /**
   * Counts a message of `bytes` (if it is of at least
   * {@linkcode PACED_MESSAGE_BYTES}); collects once a step has passed
   * since the last collection.
   *
   * @returns Whether it collected.
   */
  count(bytes: number): boolean {
    if (bytes < PACED_MESSAGE_BYTES) return false;
    this.#counted += bytes;
    if (this.#counted < this.#step) return false;
    this.#counted = 0;
    this.#collect();
    this.collections++;
    return true;
  }
}

/** The smallest step `auto` picks. */
const MIN_AUTO_STEP = 2 ** 20;

/** The `--gc-step` flag of the roles that hold a cache (`start`, `shard`). */
export const GC_STEP_FLAG: Flag = {
  type: "string",
  default: "auto",
  value: "SIZE",
  help:
    "full collection after this many bytes of messages of 1KiB or more, which holds memory near --max-bytes (auto: 1/64 of --max-bytes, at least 1MiB; off: V8's own schedule)",
};

/**
 * The `--gc-step` in bytes (`auto` resolved against `maxBytes`), or
 * `undefined` for `off`.
 *
 * @param values The parsed flags.
 * @param maxBytes The process's `--max-bytes`, which `auto` follows.
 * @throws {UsageError} when it is neither `auto`, `off` nor a size.
 */
export function parseGcStep(
  values: FlagValues,
  maxBytes: number,
): number | undefined {
  const text = values.text("gc-step")!;
  if (text === "off") return undefined;
  if (text === "auto") {
    return Math.max(MIN_AUTO_STEP, Math.floor(maxBytes / 64));
  }
  try {
    return parseSize("gc-step", text);
  } catch {
    throw new UsageError(
      `--gc-step must be auto, off or a size such as 2MiB: received "${text}"`,
    );
  }
}

/** The shape of V8's `gc` function that the pacer calls. */
type Gc = (options: { type: "major" }) => void;

/** V8's `gc` function, when `--expose-gc` put it on the global object. */
function exposedGc(): Gc | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? gc as Gc : undefined;
}

/**
 * The `onMessageBytes` of this isolate's server (see `grpc_server.ts`): a
 * {@linkcode GcPacer} counting its messages, whose collections `metrics`
 * exports. `undefined`, with a warning, when V8 does not expose `gc`.
 *
 * @param stepBytes The `--gc-step`; `undefined` (off) paces nothing.
 * @param log Where to say what it does.
 * @param metrics Where `ganache_gc_paced_collections_total` is exported.
 */
export function messageBytesPacer(
  stepBytes: number | undefined,
  log: Logger,
  metrics: Metrics,
): ((bytes: number) => void) | undefined {
  if (stepBytes === undefined) return undefined;
  const gc = exposedGc();
  if (gc === undefined) {
    log.warn(
      "V8's gc is not exposed (--v8-flags=--expose-gc): dead network buffers are collected on V8's own schedule, which can hold tens of MiB more under load (README: Memory)",
    );
    return undefined;
  }
  log.info(
    `collecting dead network buffers every ${stepBytes} bytes of messages (--gc-step)`,
  );
  const pacer = new GcPacer({
    stepBytes,
    collect: () => gc({ type: "major" }),
  });
  metrics.countPacedCollections(() => pacer.collections);
  return (bytes) => {
    pacer.count(bytes);
  };
}
