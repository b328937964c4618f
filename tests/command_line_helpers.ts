/**
 * Helpers of the command-line unit tests (`main_test.ts` and its
 * siblings): what `parseCommandLine` of `main.ts` returns, as a test
 * expects it.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Command } from "../main.ts";
import { UsageError } from "../shared/flags.ts";

/** Awaits `promise`, asserts it rejects with a UsageError, and returns that error. */
export async function usageError(
  promise: Promise<unknown>,
): Promise<UsageError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
    return error;
  }
  assert.fail("expected a UsageError");
}

/** The options of a parsed role, as the type the test expects. */
export function optionsOf<T>(command: Command, role: string): T {
  assert.ok("role" in command, "expected a role, not help");
  assert.equal(command.role, role);
  return command.options as T;
}
