/** Unit tests of `write_packing.ts`: what a worker reads is what was packed. */
import assert from "node:assert/strict";
import { PackedWrites, packWrites } from "./write_packing.ts";
import type { ShardWrite } from "../wire/shard.ts";
import type { ShardOp } from "./worker_protocol.ts";

const BYTES = "type.googleapis.com/google.protobuf.BytesValue";

function write(
  key: string,
  value: number[],
  more: Partial<ShardWrite> = {},
): ShardWrite {
  return {
    key,
    value: { typeUrl: BYTES, value: new Uint8Array(value) },
    ttlMs: 0,
    ...more,
  };
}

/** A write as plain data, with the optional fields as the reader sets them. */
function plain(w: ShardWrite) {
  return {
    key: w.key,
    typeUrl: w.value.typeUrl,
    value: Array.from(w.value.value),
    ttlMs: w.ttlMs,
    version: w.version,
    tombstone: w.tombstone === true,
  };
}

function readRun(
  reader: PackedWrites,
  at: number,
  count: number,
): ReturnType<typeof plain>[] {
  const seen: ReturnType<typeof plain>[] = [];
  reader.run(at, count).forEach((w) => seen.push(plain(w)));
  return seen;
}

Deno.test("every write of set, setIf and setMany reads back field for field", () => {
  const many = [
    write("1:ns\0ascii", [1, 2, 3], { ttlMs: 1500 }),
    write("1:ns\0é-ü", [], { version: 1_700_000_000_123_456 }),
    write("1:ns\0😀 emoji", [255], { tombstone: true, version: 7 }),
    {
      key: "1:ns\0other-type",
      value: { typeUrl: "t/ü", value: new Uint8Array([9]) },
      ttlMs: 0,
      version: 0,
    },
    write("1:ns\0back-to-bytes", [4, 5]),
  ];
  const single = write("1:ns\0single", [6], { ttlMs: 20 });
  const conditional = write("1:ns\0cond", [7, 7]);
  const ops: ShardOp[] = [
    { op: "get", key: "1:ns\0x" },
    { op: "setMany", writes: many },
    { op: "set", write: single },
    { op: "setIf", write: conditional, condition: { onlyIfAbsent: true } },
  ];
  const { ops: packed, writes } = packWrites(ops);
  assert.ok(writes);
  assert.deepEqual(packed[0], ops[0]);
  const [, setMany, set, setIf] = packed;
  assert.ok(setMany?.op === "setMany" && set?.op === "set");
  assert.ok(setIf?.op === "setIf");
  assert.equal(setMany.count, 5);
  assert.deepEqual(setIf.condition, { onlyIfAbsent: true });
  const reader = new PackedWrites(writes);
  assert.deepEqual(readRun(reader, setMany.at, setMany.count), many.map(plain));
  assert.deepEqual(plain(reader.one(set.at)), plain(single));
  assert.deepEqual(plain(reader.one(setIf.at)), plain(conditional));
});

Deno.test("a packed write takes 32 bytes + its key + its value, and its type URL only when it changes", () => {
  const utf8 = (text: string) => new TextEncoder().encode(text).length;
  const a = write("k1", [1, 2]);
  const b = write("k2é", [3]);
  const c = {
    ...write("k3", []),
    value: { typeUrl: "t", value: new Uint8Array() },
  };
  const { ops, writes } = packWrites([
    { op: "setMany", writes: [a, b, c] },
    { op: "set", write: write("k4", [4]) },
  ]);
  const first = 32 + 2 + utf8(BYTES) + 2 + // a: the run's first type URL
    32 + utf8("k2é") + 1 + // b: same type URL as a
    32 + 2 + 1; // c: a new type URL, "t"
  assert.equal(ops[1]?.op === "set" && ops[1].at, first);
  // A new run names its type URL again.
  assert.equal(writes?.byteLength, first + 32 + 2 + utf8(BYTES) + 1);
});

Deno.test("a batch with no writes is posted as it is, with no buffer", () => {
  const ops: ShardOp[] = [{ op: "get", key: "a" }, { op: "stats" }];
  const packed = packWrites(ops);
  assert.equal(packed.ops, ops);
  assert.equal(packed.writes, undefined);
});

Deno.test("an empty setMany packs to an empty run", () => {
  const { ops, writes } = packWrites([{ op: "setMany", writes: [] }]);
  assert.deepEqual(ops, [{ op: "setMany", at: 0, count: 0 }]);
  assert.equal(writes?.byteLength, 0);
  assert.deepEqual(readRun(new PackedWrites(writes!), 0, 0), []);
});

Deno.test("release frees the buffer: its views go empty", () => {
  const { ops, writes } = packWrites([{ op: "set", write: write("k", [1]) }]);
  const reader = new PackedWrites(writes!);
  const read = reader.one(ops[0]!.op === "set" ? ops[0]!.at : -1);
  assert.equal(read.value.value.byteLength, 1);
  reader.release();
  assert.equal(writes!.detached, true);
  assert.equal(read.value.value.byteLength, 0);
});
