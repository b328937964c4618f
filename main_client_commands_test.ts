/** Unit tests of the command line of the client commands (set, get, mset, ...), as main.ts parses them. */
import assert from "node:assert/strict";
import { parseCommandLine } from "./main.ts";
import { optionsOf, usageError } from "./tests/command_line_helpers.ts";

Deno.test("a client command drops a leading -- and parses its positionals and --ttl", async () => {
  assert.deepEqual(
    await parseCommandLine(["--", "set", "demo", "k", "v", "--ttl", "500"], 4),
    {
      role: "set",
      logLevel: "info",
      logFormat: "text",
      options: {
        command: "set",
        args: ["demo", "k", "v"],
        addr: "127.0.0.1:40001",
        certs: "certs",
        serverName: undefined,
        timeoutMs: 5000,
        ttlMs: 500,
        type: "string",
        raw: false,
        file: undefined,
      },
    },
  );
});

Deno.test("set without --ttl has ttlMs 0 (no expiry)", async () => {
  const options = optionsOf<{ ttlMs: number }>(
    await parseCommandLine(["set", "demo", "k", "v"], 4),
    "set",
  );
  assert.equal(options.ttlMs, 0);
});

Deno.test("client flags are parsed: --addr, --certs, --server-name, --timeout-ms", async () => {
  const command = await parseCommandLine([
    "get",
    "demo",
    "k",
    "--addr",
    "cache:9",
    "--certs",
    "/c",
    "--server-name",
    "cfe",
    "--timeout-ms",
    "250",
  ], 4);
  assert.deepEqual(command, {
    role: "get",
    logLevel: "info",
    logFormat: "text",
    options: {
      command: "get",
      args: ["demo", "k"],
      addr: "cache:9",
      certs: "/c",
      serverName: "cfe",
      timeoutMs: 250,
      ttlMs: 0,
      type: undefined,
      raw: false,
      file: undefined,
    },
  });
});

Deno.test("a bad --ttl is a usage error", async () => {
  assert.equal(
    (await usageError(
      parseCommandLine(["set", "demo", "k", "v", "--ttl", "soon"], 4),
    )).message,
    '--ttl must be a duration such as 60s, 5m, 2h or 1500 (milliseconds): received "soon"',
  );
});

Deno.test("set takes exactly one of VALUE, - and --file; mset takes pairs", async () => {
  for (
    const argv of [
      ["set", "ns", "k"],
      ["set", "ns", "k", "v", "--file", "f"],
      ["mset", "ns", "a", "1", "b"],
      ["set", "ns", "k", "v", "--type", "float"],
    ]
  ) {
    await usageError(parseCommandLine(argv, 2));
  }
});
