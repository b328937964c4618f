/** Unit tests of the command line: the usage mistakes main.ts rejects, and how it names them. */
import assert from "node:assert/strict";
import { parseCommandLine } from "./main.ts";
import { usageError } from "./tests/command_line_helpers.ts";

Deno.test("flags without a role are a usage error", async () => {
  assert.match(
    (await usageError(parseCommandLine(["--port", "0"], 4))).message,
    /^no role given before --port/,
  );
});

Deno.test("an unknown role is a usage error", async () => {
  assert.equal(
    (await usageError(parseCommandLine(["launch"], 4))).message,
    'unknown role "launch"',
  );
});

Deno.test("a port over 65535 is a usage error", async () => {
  assert.equal(
    (await usageError(parseCommandLine(["start", "--port", "70000"], 4)))
      .message,
    '--port must be a whole number from 0 to 65535: received "70000"',
  );
});

Deno.test("zero workers is a usage error", async () => {
  assert.equal(
    (await usageError(parseCommandLine(["start", "--workers", "0"], 4)))
      .message,
    '--workers must be a whole number from 1 to 1024: received "0"',
  );
});

Deno.test("a size that is not a size is a usage error", async () => {
  assert.equal(
    (await usageError(parseCommandLine(["start", "--max-bytes", "lots"], 4)))
      .message,
    '--max-bytes must be a size such as 1048576, 64MiB or 1GiB: received "lots"',
  );
});

Deno.test("an unknown flag is a usage error naming the role and the flag", async () => {
  assert.match(
    (await usageError(parseCommandLine(["start", "--nope"], 4))).message,
    /^start: Unknown option '--nope'/,
  );
  assert.match(
    (await usageError(parseCommandLine(["get", "a", "b", "--ttl", "5"], 4)))
      .message,
    /^get: Unknown option '--ttl'/,
  );
});

Deno.test("the wrong number of positionals is a usage error", async () => {
  assert.equal(
    (await usageError(parseCommandLine(["get", "demo"], 4))).message,
    "get takes NS KEY: received 1 argument(s)",
  );
  assert.equal(
    (await usageError(parseCommandLine(["get", "demo", "k", "extra"], 4)))
      .message,
    "get takes NS KEY: received 3 argument(s)",
  );
  assert.equal(
    (await usageError(parseCommandLine(["stats", "x"], 4))).message,
    "stats takes no arguments: received 1 argument(s)",
  );
});

Deno.test("an unknown log level is a usage error", async () => {
  assert.equal(
    (await usageError(parseCommandLine(["start", "--log-level", "loud"], 4)))
      .message,
    '--log-level must be one of debug, info, warn, error, silent: received "loud"',
  );
});

Deno.test({
  name: "a role named like an Object.prototype member is an unknown role",
  async fn() {
    for (const role of ["toString", "constructor", "__proto__"]) {
      assert.equal(
        (await usageError(parseCommandLine([role], 4))).message,
        `unknown role "${role}"`,
      );
    }
  },
});
