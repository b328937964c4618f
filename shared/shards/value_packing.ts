/**
 * Packs the values of a batch's writes into one `ArrayBuffer`, which the
 * batch then transfers to the shard worker instead of copying: one
 * allocation and one copy per batch, where posting each value on its own
 * would make an `ArrayBuffer` per value on both sides of the channel (and
 * a decoded value is often a view into a much larger request buffer, which
 * posting would copy whole).
 *
 * @module
 */
import type { ShardWrite } from "../wire/shard.ts";
import type { ShardOp } from "./worker_protocol.ts";

/**
 * Replaces every write's value bytes in `ops` by a view into one new
 * buffer holding them all.
 *
 * @returns The buffer to transfer, or `undefined` when no op writes.
 */
export function packWriteValues(ops: ShardOp[]): ArrayBuffer | undefined {
  let total = 0;
  for (const op of ops) {
    if (op.op === "set" || op.op === "setIf") {
      total += op.write.value.value.byteLength;
    } else if (op.op === "setMany") {
      for (const write of op.writes) total += write.value.value.byteLength;
    }
  }
  if (total === 0) return undefined;
  const bytes = new Uint8Array(total);
  let at = 0;
  const place = (write: ShardWrite): ShardWrite => {
    const value = write.value.value;
    bytes.set(value, at);
    const view = bytes.subarray(at, at + value.byteLength);
    at += value.byteLength;
    return { ...write, value: { typeUrl: write.value.typeUrl, value: view } };
  };
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.op === "set") ops[i] = { op: "set", write: place(op.write) };
    else if (op.op === "setIf") ops[i] = { ...op, write: place(op.write) };
    else if (op.op === "setMany") {
      ops[i] = { op: "setMany", writes: op.writes.map(place) };
    }
  }
  return bytes.buffer;
}

/**
 * Frees the buffer {@linkcode packWriteValues} made, once its values are
 * stored: detaching it releases its memory now, where waiting for the
 * collector would let dead buffers pile up (V8 collects for external
 * memory only after tens of MiB of it).
 */
export function releaseWriteValues(ops: ShardOp[]): void {
  for (const op of ops) {
    const write = op.op === "set" || op.op === "setIf"
      ? op.write
      : op.op === "setMany"
      ? op.writes[0]
      : undefined;
    if (write === undefined) continue;
    const buffer = write.value.value.buffer;
    if (buffer instanceof ArrayBuffer && !buffer.detached) buffer.transfer(0);
    return;
  }
}
