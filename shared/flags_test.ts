/** Unit tests of role flags: parsing, environment fallbacks, sizes and help. */
import assert from "node:assert/strict";
import {
  envName,
  type FlagValues,
  parseInteger,
  parseRole,
  parseSize,
  programHelp,
  roleHelp,
  type RoleSpec,
  UsageError,
} from "./flags.ts";

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

/** A made-up role with one flag of each kind. */
const DEMO: RoleSpec = {
  usage: "demo NAME [flags]",
  summary: "A role for tests.",
  positionals: ["NAME"],
  flags: {
    port: { type: "string", default: "7", value: "PORT", help: "a port" },
    size: { type: "string", default: "1KiB", value: "SIZE", help: "a size" },
    label: { type: "string", value: "TEXT", help: "no default" },
    loud: { type: "boolean", help: "a switch" },
  },
};

/** Parses `args` as the demo role, returning what its flags read as. */
function demo(
  args: string[],
  env: (name: string) => string | undefined = () => undefined,
) {
  return parseRole(args, {
    name: "demo",
    spec: DEMO,
    toOptions: (values: FlagValues) => ({
      name: values.positionals[0],
      port: values.integer("port", 1, 100),
      size: values.size("size"),
      label: values.text("label"),
      count: values.optionalInteger("label", 0, 9),
      loud: values.boolean("loud"),
      secret: values.env("SECRET"),
    }),
    env,
  });
}

Deno.test("a flag comes from the command line, else GANACHE_<FLAG>, else its default", () => {
  assert.deepEqual(demo(["x"]), {
    logLevel: "info",
    logFormat: "text",
    options: {
      name: "x",
      port: 7,
      size: 1024,
      label: undefined,
      count: undefined,
      loud: false,
      secret: undefined,
    },
  });
  const env = (name: string) =>
    ({
      GANACHE_PORT: "8",
      GANACHE_LABEL: "3",
      GANACHE_LOUD: "yes",
      GANACHE_LOG_FORMAT: "json",
      SECRET: "s",
    })[name];
  assert.deepEqual(demo(["x", "--port", "9"], env), {
    logLevel: "info",
    logFormat: "json",
    options: {
      name: "x",
      port: 9,
      size: 1024,
      label: "3",
      count: 3,
      loud: true,
      secret: "s",
    },
  });
});

Deno.test("--help returns the role's help before any value is checked", () => {
  assert.deepEqual(demo(["--help", "--port", "0", "--log-level", "loud"]), {
    help: roleHelp(DEMO),
  });
});

Deno.test("usage errors name the role, the flag and what was received", () => {
  assert.match(
    usageError(() => demo(["x", "--nope"])).message,
    /^demo: Unknown option '--nope'/,
  );
  assert.equal(
    usageError(() => demo([])).message,
    "demo takes NAME: received 0 argument(s)",
  );
  assert.equal(
    usageError(() => demo(["x", "--log-format", "xml"])).message,
    '--log-format must be one of text, json: received "xml"',
  );
  assert.equal(
    usageError(() => demo(["x", "--port", "0"])).message,
    '--port must be a whole number from 1 to 100: received "0"',
  );
});

Deno.test("a role's help lists its flags, then the common ones, with defaults", () => {
  assert.equal(
    roleHelp(DEMO),
    [
      "Usage: main.ts demo NAME [flags]",
      "",
      "A role for tests.",
      "",
      "Flags (each also from GANACHE_<FLAG>, e.g. --log-level from GANACHE_LOG_LEVEL; the command line wins):",
      "  --port PORT                a port [default: 7]",
      "  --size SIZE                a size [default: 1KiB]",
      "  --label TEXT               no default",
      "  --loud                     a switch",
      "  --log-level LEVEL          one of debug, info, warn, error, silent [default: info]",
      "  --log-format FORMAT        one of text, json: one line per event [default: text]",
      "  --help                     show this help",
    ].join("\n"),
  );
});

Deno.test("the program's help aligns every role's summary", () => {
  const text = programHelp([DEMO, { ...DEMO, usage: "x", summary: "Short." }]);
  assert.ok(text.includes("\n  demo NAME [flags]  A role for tests.\n"));
  assert.ok(text.includes("\n  x                  Short.\n"));
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

Deno.test("envName maps a flag to its variable", () => {
  assert.equal(envName("max-bytes"), "GANACHE_MAX_BYTES");
  assert.equal(envName("etcd"), "GANACHE_ETCD");
});
