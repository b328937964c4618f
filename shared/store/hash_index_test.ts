/** Unit tests of {@linkcode HashIndex}: probing, backward-shift deletion, growth. */
import assert from "node:assert/strict";
import { hashBytes, HashIndex } from "./hash_index.ts";

Deno.test("hashBytes is FNV-1a (offset basis 0x9dc5811c ^ 0x5bd1e995) with a Murmur3 finaliser", () => {
  // Computed by hand from the definition, independently of the module.
  const fnv = (bytes: number[]) => {
    let h = (0x9dc5811c ^ 0x5bd1e995) >>> 0;
    for (const b of bytes) {
      h = Number((BigInt(h ^ b) * 0x01000193n) & 0xffffffffn);
    }
    h = (h ^ (h >>> 16)) >>> 0;
    h = Number((BigInt(h) * 0x85ebca6bn) & 0xffffffffn);
    h = (h ^ (h >>> 13)) >>> 0;
    h = Number((BigInt(h) * 0xc2b2ae35n) & 0xffffffffn);
    return (h ^ (h >>> 16)) >>> 0;
  };
  for (const text of ["", "a", "4:demok0000000000001", "ключ"]) {
    const bytes = new TextEncoder().encode(text);
    assert.equal(hashBytes(bytes, bytes.length), fnv([...bytes]), text);
  }
});

Deno.test("HashIndex finds colliding keys apart and keeps them findable after deletes", () => {
  const index = new HashIndex();
  // Refs 1..200, all with one of four hashes: long probe runs that wrap.
  for (let ref = 1; ref <= 200; ref++) {
    index.insert(ref % 4 === 0 ? 7 : ref % 4, ref);
  }
  assert.equal(index.size, 200);
  assert.equal(index.byteLength, 512 * 8); // 200 > 0.75 × 256 slots
  const hashOf = (ref: number) => ref % 4 === 0 ? 7 : ref % 4;
  for (let ref = 1; ref <= 200; ref += 3) {
    index.removeAt(index.find(hashOf(ref), (r) => r === ref));
  }
  for (let ref = 1; ref <= 200; ref++) {
    const slot = index.find(hashOf(ref), (r) => r === ref);
    assert.equal(slot >= 0, (ref - 1) % 3 !== 0, `ref ${ref}`);
    if (slot >= 0) assert.equal(index.refAt(slot), ref);
  }
  assert.equal(index.size, 200 - 67);
});
