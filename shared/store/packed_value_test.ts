import assert from "node:assert/strict";
import {
  packedVersion,
  packValue,
  TypeUrlTable,
  unpackValue,
} from "./packed_value.ts";

const bytes = (n: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);

Deno.test("packValue round-trips every byte value, with and without a version", () => {
  const table = new TypeUrlTable();
  const value = Uint8Array.from({ length: 256 }, (_, i) => i);
  const plain = packValue(table, "type.example/A", value, undefined);
  assert.deepEqual(unpackValue(table, plain), {
    typeUrl: "type.example/A",
    value,
  });
  assert.equal(packedVersion(plain), undefined);
  const version = 2 ** 53 - 1;
  const versioned = packValue(table, "type.example/A", value, version);
  assert.deepEqual(unpackValue(table, versioned), {
    typeUrl: "type.example/A",
    value,
    version,
  });
  assert.equal(packedVersion(versioned), version);
});

Deno.test("a packed value is one character per byte plus a 3-byte header", () => {
  const table = new TypeUrlTable();
  assert.equal(packValue(table, "t", bytes(100), undefined).length, 103);
  assert.equal(packValue(table, "t", bytes(100), 5).length, 110);
  assert.equal(packValue(table, "t", new Uint8Array(0), undefined).length, 3);
});

Deno.test("values larger than one fromCharCode chunk round-trip", () => {
  const table = new TypeUrlTable();
  const value = bytes(100_000);
  assert.deepEqual(unpackValue(table, packValue(table, "t", value, 9)), {
    typeUrl: "t",
    value,
    version: 9,
  });
});

Deno.test("type URLs are interned: the same URL gets the same id", () => {
  const table = new TypeUrlTable();
  assert.equal(table.idOf("a"), 0);
  assert.equal(table.idOf("b"), 1);
  assert.equal(table.idOf("a"), 0);
  assert.equal(table.urlOf(1), "b");
});

Deno.test("once the table is full, type URLs are stored inline (UTF-8)", () => {
  const table = new TypeUrlTable();
  for (let i = 0; i < 0x10000; i++) table.idOf(`t${i}`);
  assert.equal(table.idOf("überType"), undefined);
  const packed = packValue(table, "überType", bytes(10), 77);
  assert.deepEqual(unpackValue(table, packed), {
    typeUrl: "überType",
    value: bytes(10),
    version: 77,
  });
  assert.equal(packedVersion(packed), 77);
});
