/** Unit tests of {@linkcode GcPacer} and `--gc-step`: when it collects, and from where it counts. */
import assert from "node:assert/strict";
import { GC_STEP_FLAG, GcPacer, parseGcStep } from "./gc_pacer.ts";
import { parseRole, type RoleSpec, UsageError } from "../flags.ts";

const MiB = 2 ** 20;

/** A pacer over a settable external-memory figure; collecting frees `freed`. */
function pacerOver(start: number, freed = 0) {
  const memory = { external: start, collections: 0 };
  const pacer = new GcPacer({
    stepBytes: 4 * MiB,
    external: () => memory.external,
    collect: () => {
      memory.collections++;
      memory.external -= freed;
    },
  });
  return { memory, pacer };
}

Deno.test("GcPacer collects once external memory has grown by the step", () => {
  const { memory, pacer } = pacerOver(10 * MiB, 3 * MiB);
  memory.external = 14 * MiB - 1;
  assert.equal(pacer.check(), false);
  memory.external = 14 * MiB;
  assert.equal(pacer.check(), true);
  assert.equal(memory.collections, 1);
  assert.equal(pacer.collections, 1);
  // The next step counts from what the collection left (11 MiB).
  memory.external = 15 * MiB - 1;
  assert.equal(pacer.check(), false);
  memory.external = 15 * MiB;
  assert.equal(pacer.check(), true);
  assert.equal(memory.collections, 2);
});

Deno.test("GcPacer counts growth from the lowest point since the last collection", () => {
  const { memory, pacer } = pacerOver(20 * MiB);
  memory.external = 8 * MiB; // V8 collected on its own
  assert.equal(pacer.check(), false);
  memory.external = 12 * MiB - 1;
  assert.equal(pacer.check(), false);
  memory.external = 12 * MiB;
  assert.equal(pacer.check(), true);
  assert.equal(memory.collections, 1);
});

Deno.test("GcPacer refuses a step that is not positive", () => {
  for (const stepBytes of [0, -1, NaN]) {
    assert.throws(
      () => new GcPacer({ stepBytes, external: () => 0, collect: () => {} }),
      RangeError,
    );
  }
});

Deno.test("--gc-step takes a size or off, and is off by default", () => {
  const spec: RoleSpec = {
    usage: "start [flags]",
    summary: "",
    positionals: [],
    flags: { "gc-step": GC_STEP_FLAG },
  };
  const step = (args: string[], env?: string) =>
    parseRole(args, {
      name: "start",
      spec,
      toOptions: parseGcStep,
      env: (name) => name === "GANACHE_GC_STEP" ? env : undefined,
    });
  const options = (args: string[], env?: string) => {
    const parsed = step(args, env);
    assert.ok("options" in parsed);
    return parsed.options;
  };
  assert.equal(options([]), undefined);
  assert.equal(options(["--gc-step", "16MiB"]), 16 * MiB);
  assert.equal(options([], "1MiB"), MiB);
  assert.equal(options(["--gc-step", "off"]), undefined);
  assert.throws(() => step(["--gc-step", "0"]), UsageError);
  assert.throws(() => step(["--gc-step", "soon"]), UsageError);
});
