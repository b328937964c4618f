/** Unit tests of command-line parsing. */
import assert from "node:assert/strict";
import {
  envName,
  parseCommandLine,
  parseInteger,
  parseSize,
  programHelp,
  roleHelp,
  UsageError,
} from "./args.ts";

/** Runs `fn`, asserts it throws a UsageError, and returns that error. */
function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
    return error;
  }
  assert.fail("expected a UsageError");
}

Deno.test("no arguments start the service with the defaults", () => {
  assert.deepEqual(parseCommandLine([], 6), {
    role: "start",
    logLevel: "info",
    logFormat: "text",
    options: {
      host: "127.0.0.1",
      port: 40001,
      workers: 6,
      maxBytes: 268435456,
      frontendThreads: 1,
      maxValueBytes: 4194304,
      certs: "certs",
      clientCa: undefined,
      clientAuth: true,
      acl: undefined,
      shutdownGraceMs: 5000,
      metricsPort: undefined,
    },
  });
});

Deno.test("workers default to the number of cores given", () => {
  const command = parseCommandLine(["start"], 3);
  assert.equal(command.role, "start");
  assert.equal(command.role === "start" && command.options.workers, 3);
});

Deno.test("flags without a role are flags of start", () => {
  const command = parseCommandLine(
    [
      "--port",
      "0",
      "--host",
      "0.0.0.0",
      "--workers",
      "2",
      "--log-level",
      "debug",
    ],
    8,
  );
  assert.equal(command.role, "start");
  if (command.role !== "start") return;
  assert.equal(command.logLevel, "debug");
  assert.equal(command.options.port, 0);
  assert.equal(command.options.host, "0.0.0.0");
  assert.equal(command.options.workers, 2);
});

Deno.test("a client command drops a leading -- and parses its positionals and --ttl", () => {
  assert.deepEqual(
    parseCommandLine(["--", "set", "demo", "k", "v", "--ttl", "500"], 4),
    {
      role: "client",
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
      },
    },
  );
});

Deno.test("set without --ttl has ttlMs 0 (no expiry)", () => {
  const command = parseCommandLine(["set", "demo", "k", "v"], 4);
  assert.equal(command.role === "client" && command.options.ttlMs, 0);
});

Deno.test("client flags are parsed: --addr, --certs, --server-name, --timeout-ms", () => {
  const command = parseCommandLine([
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
    role: "client",
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
    },
  });
});

Deno.test("--no-client-auth turns client certificates off", () => {
  const command = parseCommandLine(["start", "--no-client-auth"], 4);
  assert.equal(command.role === "start" && command.options.clientAuth, false);
});

Deno.test("certs role takes --certs, --force and --hosts", () => {
  assert.deepEqual(
    parseCommandLine(
      ["certs", "--certs", "x", "--force", "--hosts", "cfe, shard1,"],
      4,
    ),
    {
      role: "certs",
      logLevel: "info",
      logFormat: "text",
      dir: "x",
      force: true,
      hosts: ["cfe", "shard1"],
    },
  );
  assert.deepEqual(parseCommandLine(["certs"], 4), {
    role: "certs",
    logLevel: "info",
    logFormat: "text",
    dir: "certs",
    force: false,
    hosts: [],
  });
});

Deno.test("sizes accept binary and decimal units and plain byte counts", () => {
  const cases: [string, number][] = [
    ["512MiB", 536870912],
    ["1GiB", 1073741824],
    ["1000", 1000],
    ["10kb", 10000],
    ["64 KiB", 65536],
    ["3MB", 3000000],
    ["7b", 7],
  ];
  for (const [text, bytes] of cases) {
    const command = parseCommandLine(
      ["start", "--max-bytes", text, "--max-value-bytes", text],
      4,
    );
    assert.equal(command.role, "start", text);
    if (command.role !== "start") return;
    assert.equal(command.options.maxBytes, bytes, text);
    assert.equal(command.options.maxValueBytes, bytes, text);
    assert.equal(parseSize("max-bytes", text), bytes, text);
  }
});

Deno.test("parseSize rejects zero, fractions, negatives and unknown units", () => {
  for (const text of ["0", "0MiB", "1.5GiB", "-1", "5TiB", "", "MiB"]) {
    assert.equal(
      usageError(() => parseSize("max-bytes", text)).message,
      `--max-bytes must be a size such as 1048576, 64MiB or 1GiB: received "${text}"`,
    );
  }
});

Deno.test("parseInteger accepts whole numbers within bounds only", () => {
  assert.equal(parseInteger("port", "0", 0, 65535), 0);
  assert.equal(parseInteger("port", "65535", 0, 65535), 65535);
  for (const text of ["65536", "-1", "1.0", "1e3", "", " 1", "0x10"]) {
    assert.equal(
      usageError(() => parseInteger("port", text, 0, 65535)).message,
      `--port must be a whole number from 0 to 65535: received "${text}"`,
    );
  }
});

Deno.test("an unknown role is a usage error", () => {
  assert.equal(
    usageError(() => parseCommandLine(["launch"], 4)).message,
    'unknown role "launch"',
  );
});

Deno.test("a port over 65535 is a usage error", () => {
  assert.equal(
    usageError(() => parseCommandLine(["--port", "70000"], 4)).message,
    '--port must be a whole number from 0 to 65535: received "70000"',
  );
});

Deno.test("zero workers is a usage error", () => {
  assert.equal(
    usageError(() => parseCommandLine(["start", "--workers", "0"], 4)).message,
    '--workers must be a whole number from 1 to 1024: received "0"',
  );
});

Deno.test("a size that is not a size is a usage error", () => {
  assert.equal(
    usageError(() => parseCommandLine(["--max-bytes", "lots"], 4)).message,
    '--max-bytes must be a size such as 1048576, 64MiB or 1GiB: received "lots"',
  );
});

Deno.test("an unknown flag is a usage error naming the role and the flag", () => {
  assert.match(
    usageError(() => parseCommandLine(["start", "--nope"], 4)).message,
    /^start: Unknown option '--nope'/,
  );
  assert.match(
    usageError(() => parseCommandLine(["get", "a", "b", "--ttl", "5"], 4))
      .message,
    /^get: Unknown option '--ttl'/,
  );
});

Deno.test("the wrong number of positionals is a usage error", () => {
  assert.equal(
    usageError(() => parseCommandLine(["get", "demo"], 4)).message,
    "get takes NS KEY: received 1 argument(s)",
  );
  assert.equal(
    usageError(() => parseCommandLine(["get", "demo", "k", "extra"], 4))
      .message,
    "get takes NS KEY: received 3 argument(s)",
  );
  assert.equal(
    usageError(() => parseCommandLine(["stats", "x"], 4)).message,
    "stats takes no arguments: received 1 argument(s)",
  );
});

Deno.test("an unknown log level is a usage error", () => {
  assert.equal(
    usageError(() => parseCommandLine(["--log-level", "loud"], 4)).message,
    '--log-level must be one of debug, info, warn, error, silent: received "loud"',
  );
});

Deno.test("a bad --ttl is a usage error", () => {
  assert.equal(
    usageError(() =>
      parseCommandLine(["set", "demo", "k", "v", "--ttl", "soon"], 4)
    ).message,
    '--ttl must be a whole number from 0 to 9007199254740991: received "soon"',
  );
});

Deno.test("--help on the program lists every role", () => {
  for (const argv of [["--help"], ["-h"], ["help"], ["--", "--help"]]) {
    const command = parseCommandLine(argv, 4);
    assert.deepEqual(
      command,
      { role: "help", text: programHelp() },
      argv.join(" "),
    );
  }
  const text = programHelp();
  for (
    const usage of [
      "start [flags]",
      "certs [flags]",
      "set NS KEY VALUE [flags]",
      "get NS KEY [flags]",
      "del NS KEY [flags]",
      "ttl NS KEY [flags]",
      "stats [flags]",
    ]
  ) {
    assert.ok(text.includes(usage), usage);
  }
});

Deno.test("--help on a role shows that role's flags", () => {
  const start = parseCommandLine(["start", "--help"], 4);
  assert.deepEqual(start, { role: "help", text: roleHelp("start") });
  assert.equal(start.role, "help");
  if (start.role !== "help") return;
  assert.ok(start.text.startsWith("Usage: main.ts start [flags]"));
  for (
    const flag of [
      "--max-bytes SIZE",
      "--max-value-bytes SIZE",
      "--port PORT",
      "--no-client-auth",
      "--log-level LEVEL",
      "[default: 256MiB]",
    ]
  ) {
    assert.ok(start.text.includes(flag), flag);
  }
  const set = parseCommandLine(["set", "--help"], 4);
  assert.equal(set.role, "help");
  if (set.role !== "help") return;
  assert.ok(set.text.includes("--ttl MS"));
  assert.ok(!set.text.includes("--max-bytes"));
  // Flags without a role are start's, --help included.
  assert.deepEqual(parseCommandLine(["--port", "1", "--help"], 4), {
    role: "help",
    text: roleHelp("start"),
  });
});

Deno.test({
  name: "a role named like an Object.prototype member is an unknown role",
  fn() {
    for (const role of ["toString", "constructor", "__proto__"]) {
      assert.equal(
        usageError(() => parseCommandLine([role], 4)).message,
        `unknown role "${role}"`,
      );
    }
  },
});

Deno.test("GANACHE_<FLAG> sets a flag, and the command line wins over it", () => {
  const env = (name: string) =>
    ({
      GANACHE_PORT: "4100",
      GANACHE_MAX_BYTES: "1GiB",
      GANACHE_NO_CLIENT_AUTH: "true",
    })[name];
  const fromEnv = parseCommandLine(["start"], 2, env);
  assert.equal(fromEnv.role, "start");
  if (fromEnv.role !== "start") return;
  assert.equal(fromEnv.options.port, 4100);
  assert.equal(fromEnv.options.maxBytes, 1024 ** 3);
  assert.equal(fromEnv.options.clientAuth, false);
  const flagWins = parseCommandLine(["start", "--port", "4200"], 2, env);
  assert.equal(flagWins.role === "start" && flagWins.options.port, 4200);
  assert.match(
    usageError(() =>
      parseCommandLine(
        ["start"],
        2,
        (n) => n === "GANACHE_PORT" ? "x" : undefined,
      )
    ).message,
    /--port must be a whole number/,
  );
});

Deno.test("envName maps a flag to its variable", () => {
  assert.equal(envName("max-bytes"), "GANACHE_MAX_BYTES");
  assert.equal(envName("etcd"), "GANACHE_ETCD");
});
