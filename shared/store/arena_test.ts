/** Unit tests of {@linkcode Arena}: chunks, merging, free lists, no leaks. */
import assert from "node:assert/strict";
import { Arena, MIN_CHUNK } from "./arena.ts";

Deno.test("Arena hands out chunks from untouched memory up to the limit", () => {
  const arena = new Arena(8 + 3 * 64);
  const refs = [1, 2, 3].map(() => arena.allocate(64, arena.byteLength));
  assert.deepEqual(refs, [1, 9, 17]);
  assert.equal(arena.allocate(64, arena.byteLength), 0);
  assert.deepEqual({ used: arena.usedBytes, top: arena.top }, {
    used: 192,
    top: 200,
  });
  assert.equal(arena.allocate(48, 8 + 64), 0); // below top, but over the limit
});

Deno.test("Arena merges a freed chunk with free neighbours and gives the end back to untouched memory", () => {
  const arena = new Arena(8 + 4 * 64);
  const [a, b, c, d] = [0, 1, 2, 3].map(() =>
    arena.allocate(64, arena.byteLength)
  );
  arena.release(a!);
  arena.release(c!);
  assert.equal(arena.allocate(128, arena.byteLength), 0); // two 64-byte holes
  arena.release(b!); // a + b + c: one 192-byte hole
  assert.equal(arena.allocate(192, arena.byteLength), a);
  arena.release(a!);
  arena.release(d!); // everything merges back into untouched memory
  assert.deepEqual({ used: arena.usedBytes, top: arena.top }, {
    used: 0,
    top: 8,
  });
});

Deno.test("Arena splits a larger free chunk, keeping the rest free, unless the rest is too small", () => {
  const arena = new Arena(8 + 1024);
  const big = arena.allocate(256, arena.byteLength);
  const guard = arena.allocate(64, arena.byteLength);
  arena.release(big);
  const small = arena.allocate(200, arena.byteLength); // 56 left: stays free
  assert.equal(arena.sizeOf(small), 200);
  const rest = arena.allocate(56, arena.byteLength);
  assert.equal(rest, small + 200 / 8);
  arena.release(small);
  arena.release(rest);
  // 256 free again; 256 - 216 = 40 < MIN_CHUNK, so the chunk is taken whole.
  assert.ok(256 - 216 < MIN_CHUNK);
  assert.equal(arena.sizeOf(arena.allocate(216, arena.byteLength)), 256);
  assert.equal(arena.usedBytes, 256 + 64);
  assert.notEqual(guard, 0);
});

Deno.test("Arena finds chunks above 1 KiB in range classes and returns to empty after random churn", () => {
  const arena = new Arena(8 + (1 << 20));
  const held: number[] = [];
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 20_000; i++) {
    if (held.length > 0 && next() % 3 === 0) {
      const at = next() % held.length;
      arena.release(held[at]!);
      held[at] = held[held.length - 1]!;
      held.pop();
    } else {
      const size = Math.max(MIN_CHUNK, (next() % 6000) & ~7);
      const ref = arena.allocate(size, arena.byteLength);
      if (ref !== 0) {
        assert.ok(arena.sizeOf(ref) >= size && arena.sizeOf(ref) < size + 48);
        held.push(ref);
      }
    }
  }
  const used = held.reduce((sum, ref) => sum + arena.sizeOf(ref), 0);
  assert.equal(arena.usedBytes, used);
  for (const ref of held) arena.release(ref);
  // Every chunk merged back: the arena is one untouched region again.
  assert.deepEqual({ used: arena.usedBytes, top: arena.top }, {
    used: 0,
    top: 8,
  });
  assert.ok(arena.peakTop > 8);
});

Deno.test("Arena refuses a size that is not a multiple of 8 or over 4 GiB", () => {
  for (const size of [0, 12, 2 ** 32]) {
    assert.throws(() => new Arena(size), RangeError);
  }
});
