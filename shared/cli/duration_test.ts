import assert from "node:assert/strict";
import { parseDuration } from "./duration.ts";
import { UsageError } from "../flags.ts";

Deno.test("parseDuration reads units and takes a plain number as milliseconds", () => {
  const cases: [string, number][] = [
    ["1500", 1500],
    ["250ms", 250],
    ["60s", 60_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["0", 0],
    ["10S", 10_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration("ttl", text), ms);
});

Deno.test("parseDuration refuses what is not a duration", () => {
  for (const text of ["soon", "-5s", "1.5s", "5 weeks", ""]) {
    assert.throws(() => parseDuration("ttl", text), UsageError, text);
  }
});
