/**
 * Paces V8's full collections by the garbage the network leaves.
 *
 * Every request a server reads arrives in fresh `ArrayBuffer`s (the TLS
 * record, the HTTP/2 frame, the gRPC message), which live outside the V8
 * heap and outlive the young generation while calls are in flight. V8
 * collects them on its own schedule only after tens of MiB of them have
 * piled up: under a MultiSet flood `start`'s main thread held up to 48 MiB
 * of dead buffers, and the allocator kept the pages. The pacer looks at the
 * isolate's external memory every few milliseconds and asks for a full
 * collection once it has grown by `--gc-step` since the last one (off by
 * default; 2 MiB where memory is tight).
 * Gets make little such garbage and trigger almost none; a MultiSet flood
 * triggers many, each a few milliseconds on a frontend's small heap. The
 * README's Memory section has what it saves and what it costs.
 *
 * It needs V8's `gc` function (`--v8-flags=--expose-gc`, which the server
 * tasks, the compiled binary and the Docker image pass); without it
 * {@linkcode startGcPacer} only warns. They also pass
 * `--no-concurrent-array-buffer-sweeping`, so that a collection frees the
 * dead buffers before it returns rather than later on a helper thread (the
 * next step then counts from what is really left).
 *
 * @module
 */
import type { Flag, FlagValues } from "../flags.ts";
import { parseSize } from "../flag_numbers.ts";
import { UsageError } from "../usage_error.ts";
import type { Logger } from "./log.ts";

/** Options of a {@linkcode GcPacer}. */
export interface GcPacerOptions {
  /**
   * Growth of external memory since the last collection that triggers the
   * next one, in bytes.
   */
  stepBytes: number;
  /** Reads the isolate's external memory, in bytes. */
  external?: () => number;
  /** Runs a full collection. */
  collect: () => void;
}

/** Decides when to collect; {@linkcode startGcPacer} calls `check` on a timer. */
export class GcPacer {
  /** Full collections it has asked for. */
  collections = 0;
  readonly #step: number;
  readonly #external: () => number;
  readonly #collect: () => void;
  #base: number;

  /** @param options How much growth triggers a collection, and how to collect. */
  constructor(options: GcPacerOptions) {
    const { stepBytes } = options;
    if (!(stepBytes > 0)) {
      throw new RangeError(
        `Cannot pace collections: stepBytes must be positive: received ${stepBytes}`,
      );
    }
    this.#step = stepBytes;
    this.#external = options.external ?? (() => Deno.memoryUsage().external);
    this.#collect = options.collect;
    this.#base = this.#external();
  }

  /**
   * Collects if external memory has grown by the step since the last
   * collection (or since it was lowest).
   *
   * @returns Whether it collected.
   */
  check(): boolean {
    const external = this.#external();
    if (external < this.#base) this.#base = external;
    if (external - this.#base < this.#step) return false;
    this.#collect();
    this.collections++;
    this.#base = this.#external();
    return true;
  }
}

/** How often a started pacer checks, in milliseconds. */
const GC_PACER_INTERVAL_MS = 20;

/** The `--gc-step` flag of the roles that hold a cache (`start`, `shard`). */
export const GC_STEP_FLAG: Flag = {
  type: "string",
  default: "off",
  value: "SIZE",
  help:
    "full collection once this much network garbage has piled up: 2MiB holds memory near --max-bytes, writes slower (off: V8's own schedule)",
};

/**
 * The `--gc-step` value in bytes, or `undefined` for `off`.
 *
 * @throws {UsageError} when it is neither `off` nor a size.
 */
export function parseGcStep(values: FlagValues): number | undefined {
  const text = values.text("gc-step")!;
  if (text === "off") return undefined;
  try {
    return parseSize("gc-step", text);
  } catch {
    throw new UsageError(
      `--gc-step must be off or a size such as 2MiB: received "${text}"`,
    );
  }
}

/** V8's `gc` function, when `--expose-gc` put it on the global object. */
function exposedGc(): ((options: { type: "major" }) => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? gc as () => void : undefined;
}

/** A started {@linkcode GcPacer} and how to stop it. */
export interface RunningGcPacer {
  /** The pacer, for its count of collections. */
  pacer: GcPacer;
  /** Stops it. */
  stop(): void;
}

/**
 * Starts pacing this isolate's full collections, or warns that it cannot
 * because V8 does not expose `gc`.
 *
 * @param stepBytes The `--gc-step`; `undefined` (off) starts nothing.
 * @param log Where to say what it does.
 * @returns The running pacer, or `undefined` when none runs.
 */
export function startGcPacer(
  stepBytes: number | undefined,
  log: Logger,
): RunningGcPacer | undefined {
  if (stepBytes === undefined) return undefined;
  const gc = exposedGc();
  if (gc === undefined) {
    log.warn(
      "V8's gc is not exposed (--v8-flags=--expose-gc): dead network buffers are collected on V8's own schedule, which can hold tens of MiB more under load (README: Memory)",
    );
    return undefined;
  }
  const pacer = new GcPacer({
    stepBytes,
    collect: () => gc({ type: "major" }),
  });
  const timer = setInterval(() => pacer.check(), GC_PACER_INTERVAL_MS);
  Deno.unrefTimer(timer);
  log.info(
    `collecting dead network buffers every ${stepBytes} bytes of them (--gc-step)`,
  );
  return { pacer, stop: () => clearInterval(timer) };
}
