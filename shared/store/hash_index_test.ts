/** Unit tests of {@linkcode HashIndex}: probing, backward-shift deletion, growth. */
import assert from "node:assert/strict";
import { hashBytes, HashIndex, MAX_REF } from "./hash_index.ts";

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
  // Refs 1..200, all with one of four hashes: long probe runs that wrap.
  const hashOf = (ref: number) => ref % 4 === 0 ? 7 : ref % 4;
  const index = new HashIndex(hashOf);
  for (let ref = 1; ref <= 200; ref++) index.insert(hashOf(ref), ref);
  assert.equal(index.size, 200);
  assert.equal(index.byteLength, 512 * 4); // 200 > 0.75 × 256 slots
  for (let ref = 1; ref <= 200; ref += 3) {
    index.removeAt(index.find(hashOf(ref), (r) => r === ref));
  }
  for (let ref = 1; ref <= 200; ref++) {
    const slot = index.find(hashOf(ref), (r) => r === ref);
    assert.equal(slot >= 0, (ref - 1) % 3 !== 0, `ref ${ref}`);
    if (slot >= 0) assert.equal(index.refAt(slot), ref);
    assert.equal(index.slotOf(hashOf(ref), ref), slot, `slotOf ${ref}`);
  }
  assert.equal(index.size, 200 - 67);
});

Deno.test("HashIndex asks only refs whose tag (the hash's top 3 bits) matches", () => {
  // One home slot (low bits 5), eight tags, two refs per tag.
  const hashOf = (ref: number) => ((ref % 8) << 29 | 5) >>> 0;
  const index = new HashIndex(hashOf);
  for (let ref = 1; ref <= 16; ref++) index.insert(hashOf(ref), ref);
  const asked: number[] = [];
  const slot = index.find(hashOf(11), (ref) => {
    asked.push(ref);
    return ref === 11;
  });
  assert.deepEqual(asked, [3, 11]); // 3 % 8 === 11 % 8; the others are skipped
  assert.equal(index.refAt(slot), 11);
  assert.equal(index.byteLength, 32 * 4); // slots 5 to 20 taken
  assert.equal(index.find((7 << 29 | 21) >>> 0, () => true), -1);
});

Deno.test("HashIndex keeps the largest ref (29 bits) and every tag through growth", () => {
  const refs = [1, 2, 3, 2 ** 20, 2 ** 28, 2 ** 29 - 2, MAX_REF];
  const hashOf = (ref: number) => ((ref * 0x9e3779b1) >>> 0) | 0xe0000000;
  const index = new HashIndex(hashOf);
  for (const ref of refs) index.insert(hashOf(ref) >>> 0, ref);
  assert.equal(index.byteLength, 16 * 4); // 7 > 0.75 × 8
  for (const ref of refs) {
    const slot = index.slotOf(hashOf(ref) >>> 0, ref);
    assert.equal(index.refAt(slot), ref);
  }
  assert.throws(() => index.insert(1, MAX_REF + 1), RangeError);
  assert.throws(() => index.insert(1, 0), RangeError);
});

Deno.test("HashIndex.release frees its table at once", () => {
  const index = new HashIndex(() => 1);
  for (let ref = 1; ref <= 100; ref++) index.insert(1, ref);
  assert.equal(index.byteLength, 256 * 4);
  index.release();
  assert.equal(index.byteLength, 0);
});
