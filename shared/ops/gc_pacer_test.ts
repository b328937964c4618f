/** Unit tests of {@linkcode GcPacer} and `--gc-step`: when it collects, and what `auto` picks. */
import assert from "node:assert/strict";
import { GC_STEP_FLAG, GcPacer, parseGcStep } from "./gc_pacer.ts";
import { parseRole, type RoleSpec, UsageError } from "../flags.ts";

const MiB = 2 ** 20;

Deno.test("GcPacer collects each time a step of bytes has been counted, then counts from zero", () => {
  let collected = 0;
  const pacer = new GcPacer({ stepBytes: 4 * MiB, collect: () => collected++ });
  assert.equal(pacer.count(4 * MiB - 1024), false);
  assert.equal(pacer.count(1024), true);
  assert.deepEqual([collected, pacer.collections], [1, 1]);
  // What was counted past the step does not carry over.
  assert.equal(pacer.count(3 * MiB), false);
  assert.equal(pacer.count(2 * MiB), true);
  assert.equal(pacer.count(4 * MiB - 1), false);
  assert.deepEqual([collected, pacer.collections], [2, 2]);
  // One message larger than the step collects once.
  assert.equal(pacer.count(64 * MiB), true);
  assert.equal(collected, 3);
});

Deno.test("GcPacer does not count messages under 1 KiB", () => {
  let collected = 0;
  const pacer = new GcPacer({ stepBytes: 4096, collect: () => collected++ });
  for (let i = 0; i < 100; i++) assert.equal(pacer.count(1023), false);
  assert.equal(pacer.count(1024 * 3), false);
  assert.equal(pacer.count(1024), true);
  assert.equal(collected, 1);
});

Deno.test("GcPacer refuses a step that is not positive", () => {
  for (const stepBytes of [0, -1, NaN]) {
    assert.throws(
      () => new GcPacer({ stepBytes, collect: () => {} }),
      RangeError,
    );
  }
});

Deno.test("--gc-step takes a size, auto (1/64 of the budget, at least 1 MiB, the default) or off", () => {
  const spec: RoleSpec = {
    usage: "start [flags]",
    summary: "",
    positionals: [],
    flags: { "gc-step": GC_STEP_FLAG },
  };
  const step = (args: string[], maxBytes: number, env?: string) =>
    parseRole(args, {
      name: "start",
      spec,
      toOptions: (values) => parseGcStep(values, maxBytes),
      env: (name) => name === "GANACHE_GC_STEP" ? env : undefined,
    });
  const options = (args: string[], maxBytes = 256 * MiB, env?: string) => {
    const parsed = step(args, maxBytes, env);
    assert.ok("options" in parsed);
    return parsed.options;
  };
  assert.equal(options([]), 4 * MiB);
  assert.equal(options([], 64 * MiB), MiB);
  assert.equal(options([], 32 * MiB), MiB);
  assert.equal(options(["--gc-step", "auto"], 4 * 1024 * MiB), 64 * MiB);
  assert.equal(options([], 16 * MiB), MiB);
  assert.equal(options([], 100 * MiB + 31), Math.floor((100 * MiB + 31) / 64));
  assert.equal(options(["--gc-step", "16MiB"]), 16 * MiB);
  assert.equal(options([], 64 * MiB, "1MiB"), MiB);
  assert.equal(options(["--gc-step", "off"]), undefined);
  assert.throws(() => step(["--gc-step", "0"], MiB), UsageError);
  assert.throws(
    () => step(["--gc-step", "soon"], MiB),
    /--gc-step must be auto, off or a size such as 2MiB: received "soon"/,
  );
});
