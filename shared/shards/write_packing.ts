/**
 * Packs the writes of a batch for a shard worker into one `ArrayBuffer`,
 * which the batch transfers instead of copying. The worker reads each
 * write straight from the buffer, so a batch of a thousand writes is one
 * allocation and one copy on the frontend, and on the worker a key string
 * and a value view per write, dropped as soon as the write is stored:
 * posting the write objects themselves made the worker rebuild five
 * objects per write, all alive until the whole batch was applied, and its
 * heap grew under a write flood by what they survived into.
 *
 * A packed write: a 32-byte header (little-endian: TTL and version as
 * float64, then the value's, the key's and the type URL's byte lengths
 * and the flags as uint32), then the key's UTF-8, the type URL's (left out
 * when it is the previous write's, {@linkcode SAME_TYPE_URL}) and the value.
 *
 * @module
 */
import { utf8Into } from "../store/utf8_buffer.ts";
import { utf8Length } from "../wire/limits.ts";
import type { ShardWrite, WriteList } from "../wire/shard.ts";
import type { ShardOp, WorkerOp } from "./worker_protocol.ts";

const HEADER_BYTES = 32;
const TTL = 0, VERSION = 8, VALUE_LENGTH = 16, KEY_LENGTH = 20;
const TYPE_URL_LENGTH = 24, FLAGS = 28;
/** The type URL length that says: the previous write's type URL. */
const SAME_TYPE_URL = 0xffffffff;
const TOMBSTONE = 1, VERSIONED = 2;

const decoder = new TextDecoder();

/**
 * Bytes a run of writes takes packed. Appends to `lengths`, for
 * {@linkcode packRun}, each write's key length and type URL length
 * ({@linkcode SAME_TYPE_URL} when it repeats the previous write's).
 */
function measureRun(writes: readonly ShardWrite[], lengths: number[]): number {
  let bytes = 0;
  let lastTypeUrl: string | undefined;
  for (const write of writes) {
    const typeUrl = write.value.typeUrl;
    const keyLength = utf8Length(write.key);
    const typeUrlLength = typeUrl === lastTypeUrl
      ? SAME_TYPE_URL
      : utf8Length(typeUrl);
    lengths.push(keyLength, typeUrlLength);
    bytes += HEADER_BYTES + keyLength + write.value.value.byteLength +
      (typeUrlLength === SAME_TYPE_URL ? 0 : typeUrlLength);
    lastTypeUrl = typeUrl;
  }
  return bytes;
}

/** Where {@linkcode packRun} writes and reads its lengths from. */
interface PackCursor {
  bytes: Uint8Array;
  view: DataView;
  /** The byte the next write starts at. */
  at: number;
  /** The next write's key length in the lengths {@linkcode measureRun} made. */
  next: number;
}

/** Packs a run of writes that {@linkcode measureRun} measured. */
function packRun(
  writes: readonly ShardWrite[],
  lengths: readonly number[],
  cursor: PackCursor,
): void {
  const { bytes, view } = cursor;
  let { at, next } = cursor;
  for (const write of writes) {
    const { key, ttlMs, version } = write;
    const { typeUrl, value } = write.value;
    const keyLength = lengths[next++]!;
    const typeUrlLength = lengths[next++]!;
    view.setFloat64(at + TTL, ttlMs, true);
    view.setFloat64(at + VERSION, version ?? 0, true);
    view.setUint32(at + VALUE_LENGTH, value.byteLength, true);
    view.setUint32(at + KEY_LENGTH, keyLength, true);
    view.setUint32(at + TYPE_URL_LENGTH, typeUrlLength, true);
    view.setUint32(
      at + FLAGS,
      (write.tombstone ? TOMBSTONE : 0) |
        (version === undefined ? 0 : VERSIONED),
      true,
    );
    at += HEADER_BYTES;
    at += utf8Into(key, bytes, at);
    if (typeUrlLength !== SAME_TYPE_URL) at += utf8Into(typeUrl, bytes, at);
    bytes.set(value, at);
    at += value.byteLength;
  }
  cursor.at = at;
  cursor.next = next;
}

/**
 * The ops of a batch as a worker takes them: the writes of each `set`,
 * `setIf` and `setMany` packed, op after op, into one buffer (to transfer
 * with the batch), each op naming where its run starts.
 */
export function packWrites(
  ops: readonly ShardOp[],
): { ops: WorkerOp[]; writes: ArrayBuffer | undefined } {
  if (
    !ops.some((op) =>
      op.op === "set" || op.op === "setIf" || op.op === "setMany"
    )
  ) {
    // Nothing to pack: every op is already as a worker takes it.
    return { ops: ops as WorkerOp[], writes: undefined };
  }
  const runs: (readonly ShardWrite[])[] = [];
  const lengths: number[] = [];
  let total = 0;
  const run = (writes: readonly ShardWrite[]): number => {
    const at = total;
    runs.push(writes);
    total += measureRun(writes, lengths);
    return at;
  };
  const packed = ops.map((op): WorkerOp => {
    switch (op.op) {
      case "set":
        return { op: "set", at: run([op.write]) };
      case "setIf":
        return { op: "setIf", at: run([op.write]), condition: op.condition };
      case "setMany":
        return { op: "setMany", at: run(op.writes), count: op.writes.length };
      default:
        return op;
    }
  });
  const bytes = new Uint8Array(total);
  const cursor = { bytes, view: new DataView(bytes.buffer), at: 0, next: 0 };
  for (const writes of runs) packRun(writes, lengths, cursor);
  return { ops: packed, writes: bytes.buffer };
}

/** The worker's side: reads the writes a batch's buffer holds. */
export class PackedWrites {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  /** @param buffer The buffer {@linkcode packWrites} made. */
  constructor(buffer: ArrayBuffer) {
    this.#bytes = new Uint8Array(buffer);
    this.#view = new DataView(buffer);
  }

  /** The write that starts at `at`, as a new object. */
  one(at: number): ShardWrite {
    const write = this.#blank();
    this.#read(at, write, "");
    return write;
  }

  /**
   * The run of `count` writes that starts at `at`; it visits them as one
   * reused object.
   */
  run(at: number, count: number): WriteList {
    return {
      forEach: (visit) => {
        const write = this.#blank();
        let next = at;
        for (let i = 0; i < count; i++) {
          next = this.#read(next, write, write.value.typeUrl);
          visit(write);
        }
      },
    };
  }

  /**
   * Frees the buffer once its writes are stored: detaching releases its
   * memory now, where waiting for the collector would let dead buffers
   * pile up (V8 collects for external memory only after tens of MiB).
   */
  release(): void {
    const buffer = this.#bytes.buffer as ArrayBuffer;
    if (!buffer.detached) buffer.transfer(0);
  }

  #blank(): ShardWrite {
    return {
      key: "",
      value: { typeUrl: "", value: this.#bytes.subarray(0, 0) },
      ttlMs: 0,
      version: undefined,
      tombstone: false,
    };
  }

  /** Reads the write at `at` into `write`; returns where the next starts. */
  #read(at: number, write: ShardWrite, lastTypeUrl: string): number {
    const view = this.#view;
    const valueLength = view.getUint32(at + VALUE_LENGTH, true);
    const keyLength = view.getUint32(at + KEY_LENGTH, true);
    const typeUrlLength = view.getUint32(at + TYPE_URL_LENGTH, true);
    const flags = view.getUint32(at + FLAGS, true);
    write.ttlMs = view.getFloat64(at + TTL, true);
    write.version = flags & VERSIONED
      ? view.getFloat64(at + VERSION, true)
      : undefined;
    write.tombstone = (flags & TOMBSTONE) !== 0;
    let next = at + HEADER_BYTES;
    write.key = decoder.decode(this.#bytes.subarray(next, next + keyLength));
    next += keyLength;
    let typeUrl = lastTypeUrl;
    if (typeUrlLength !== SAME_TYPE_URL) {
      typeUrl = decoder.decode(
        this.#bytes.subarray(next, next + typeUrlLength),
      );
      next += typeUrlLength;
    }
    write.value.typeUrl = typeUrl;
    write.value.value = this.#bytes.subarray(next, next + valueLength);
    return next + valueLength;
  }
}
