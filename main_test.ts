/** Unit tests of the command line: each role's flags, as main.ts parses them; help; flags from the environment; paths. */
import assert from "node:assert/strict";
import { parseCommandLine } from "./main.ts";
import { programHelp, roleHelp } from "./shared/flags.ts";
import { SPEC as CERTS } from "./roles/certs.ts";
import { SPEC as CFE } from "./roles/cfe.ts";
import { SPECS as CLIENT_COMMANDS } from "./roles/client_commands.ts";
import { SPEC as SHARD } from "./roles/shard.ts";
import { SPEC as SHARDS } from "./roles/shards.ts";
import { SPEC as START } from "./roles/start.ts";
import { optionsOf, usageError } from "./tests/command_line_helpers.ts";

Deno.test("no arguments: the usage (main prints it on stderr, exit code 2)", async () => {
  const command = await parseCommandLine([], 6);
  assert.ok("usage" in command);
  assert.match(command.usage, /deno task start/);
  assert.ok("usage" in await parseCommandLine(["--"], 6));
});

Deno.test("start with the defaults", async () => {
  assert.deepEqual(await parseCommandLine(["start"], 6), {
    role: "start",
    logLevel: "info",
    logFormat: "text",
    options: {
      host: "127.0.0.1",
      port: 40001,
      workers: 6,
      maxBytes: 268435456,
      gcStepBytes: 4194304,
      frontendThreads: 1,
      maxValueBytes: 4194304,
      certs: "certs",
      clientCa: undefined,
      clientAuth: true,
      acl: undefined,
      shutdownGraceMs: 5000,
      metricsPort: undefined,
      limits: {
        maxConnections: 1024,
        tlsHandshakeTimeoutMs: 10000,
        idleTimeoutMs: 300000,
        maxConnectionAgeMs: 0,
        maxConcurrentStreams: 100,
      },
    },
  });
});

Deno.test("workers default to the number of cores given", async () => {
  const options = optionsOf<{ workers: number }>(
    await parseCommandLine(["start"], 3),
    "start",
  );
  assert.equal(options.workers, 3);
});

Deno.test("start's flags", async () => {
  const command = await parseCommandLine(
    [
      "start",
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
  const options = optionsOf<{ port: number; host: string; workers: number }>(
    command,
    "start",
  );
  assert.equal("logLevel" in command && command.logLevel, "debug");
  assert.equal(options.port, 0);
  assert.equal(options.host, "0.0.0.0");
  assert.equal(options.workers, 2);
});

Deno.test("--no-client-auth turns client certificates off", async () => {
  const options = optionsOf<{ clientAuth: boolean }>(
    await parseCommandLine(["start", "--no-client-auth"], 4),
    "start",
  );
  assert.equal(options.clientAuth, false);
});

Deno.test("certs role takes --certs, --force and --hosts", async () => {
  assert.deepEqual(
    await parseCommandLine(
      ["certs", "--certs", "x", "--force", "--hosts", "cfe, shard1,"],
      4,
    ),
    {
      role: "certs",
      logLevel: "info",
      logFormat: "text",
      options: { dir: "x", force: true, hosts: ["cfe", "shard1"] },
    },
  );
  assert.deepEqual(await parseCommandLine(["certs"], 4), {
    role: "certs",
    logLevel: "info",
    logFormat: "text",
    options: { dir: "certs", force: false, hosts: [] },
  });
});

Deno.test("shard and cfe read etcd, the shard count and their own flags; credentials come from the environment", async () => {
  const env = (name: string) =>
    ({ GANACHE_ETCD_USER: "u", GANACHE_ETCD_PASSWORD: "p" })[name];
  const etcd = {
    urls: ["http://a:2379", "http://b:2379"],
    ca: undefined,
    cert: undefined,
    key: undefined,
    user: "u",
    password: "p",
  };
  assert.deepEqual(
    await parseCommandLine(
      ["shard", "--etcd", "http://a:2379, http://b:2379", "--shards", "4"],
      2,
      { env },
    ),
    {
      role: "shard",
      logLevel: "info",
      logFormat: "text",
      options: {
        etcd,
        shard: undefined,
        shards: 4,
        host: "127.0.0.1",
        port: 40011,
        advertise: undefined,
        maxBytes: 268435456,
        gcStepBytes: 4194304,
        certs: "certs",
        leaseTtlSeconds: 5,
        shutdownGraceMs: 5000,
        metricsPort: undefined,
        limits: {
          maxConnections: 1024,
          tlsHandshakeTimeoutMs: 10000,
          idleTimeoutMs: 300000,
          maxConnectionAgeMs: 0,
          maxConcurrentStreams: 100,
        },
      },
    },
  );
  const cfe = optionsOf<{ etcd: unknown; shards?: number; port: number }>(
    await parseCommandLine(
      ["cfe", "--etcd", "http://a:2379,http://b:2379"],
      2,
      { env },
    ),
    "cfe",
  );
  assert.deepEqual(cfe.etcd, etcd);
  assert.equal(cfe.shards, undefined);
  assert.equal(cfe.port, 40001);
  for (const role of ["cfe", "shard", "shards"]) {
    assert.equal(
      (await usageError(parseCommandLine([role], 2))).message,
      `${role} needs --etcd URLS`,
    );
  }
});

Deno.test("sizes accept binary and decimal units and plain byte counts", async () => {
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
    // --max-value-bytes goes up to 64 MiB.
    const value = bytes <= 64 * 1024 * 1024 ? text : "7b";
    const options = optionsOf<{ maxBytes: number; maxValueBytes: number }>(
      await parseCommandLine(
        ["start", "--max-bytes", text, "--max-value-bytes", value],
        4,
      ),
      "start",
    );
    assert.equal(options.maxBytes, bytes, text);
    assert.equal(options.maxValueBytes, value === text ? bytes : 7, text);
  }
  assert.equal(
    (await usageError(
      parseCommandLine(["start", "--max-value-bytes", "65MiB"], 4),
    )).message,
    "--max-value-bytes is 68157440 bytes: the limit is 67108864 (64MiB)",
  );
});

Deno.test("--help on the program lists every role", async () => {
  const C = CLIENT_COMMANDS;
  const ORDER = [START, CFE, SHARD, SHARDS, CERTS, C.set, C.get, C.del, C.ttl]
    .concat([C.mget, C.mset, C.stats, C.health, C.incr, C.setnx, C.touch])
    .concat([C.flush]);
  const help = programHelp([
    START,
    CFE,
    SHARD,
    SHARDS,
    CERTS,
    ...Object.values(CLIENT_COMMANDS),
  ].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)));
  for (const argv of [["--help"], ["-h"], ["help"], ["--", "--help"]]) {
    assert.deepEqual(
      await parseCommandLine(argv, 4),
      { help },
      argv.join(" "),
    );
  }
  for (
    const usage of [
      "start [flags]",
      "certs [flags]",
      "set NS KEY [VALUE|-] [flags]",
      "mget NS KEY... [flags]",
      "mset NS KEY VALUE [KEY VALUE ...] [flags]",
      "get NS KEY [flags]",
      "del NS KEY... [flags]",
      "incr NS KEY [DELTA] [flags]",
      "setnx NS KEY VALUE [flags]",
      "touch NS KEY [flags]",
      "flush NS [flags]",
      "ttl NS KEY [flags]",
      "stats [flags]",
    ]
  ) {
    assert.ok(help.includes(usage), usage);
  }
});

Deno.test("--help on a role shows that role's flags", async () => {
  const start = await parseCommandLine(["start", "--help"], 4);
  assert.deepEqual(start, { help: roleHelp(START) });
  assert.ok("help" in start);
  assert.ok(start.help.startsWith("Usage: main.ts start [flags]"));
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
    assert.ok(start.help.includes(flag), flag);
  }
  const set = await parseCommandLine(["set", "--help"], 4);
  assert.ok("help" in set);
  assert.ok(set.help.includes("--ttl DURATION"));
  assert.ok(set.help.includes("--type TYPE"));
  assert.ok(set.help.includes("--file FILE"));
  assert.ok(!set.help.includes("--max-bytes"));
  assert.deepEqual(
    await parseCommandLine(["start", "--port", "1", "--help"], 4),
    {
      help: roleHelp(START),
    },
  );
});

Deno.test("GANACHE_<FLAG> sets a flag, and the command line wins over it", async () => {
  const env = (name: string) =>
    ({
      GANACHE_PORT: "4100",
      GANACHE_MAX_BYTES: "1GiB",
      GANACHE_NO_CLIENT_AUTH: "true",
    })[name];
  type Options = { port: number; maxBytes: number; clientAuth: boolean };
  const fromEnv = optionsOf<Options>(
    await parseCommandLine(["start"], 2, { env }),
    "start",
  );
  assert.equal(fromEnv.port, 4100);
  assert.equal(fromEnv.maxBytes, 1024 ** 3);
  assert.equal(fromEnv.clientAuth, false);
  const flagWins = optionsOf<Options>(
    await parseCommandLine(["start", "--port", "4200"], 2, { env }),
    "start",
  );
  assert.equal(flagWins.port, 4200);
  assert.match(
    (await usageError(
      parseCommandLine(
        ["start"],
        2,
        { env: (n) => n === "GANACHE_PORT" ? "x" : undefined },
      ),
    )).message,
    /--port must be a whole number/,
  );
});

Deno.test("relative paths the user gives are resolved from where the command was typed (INIT_CWD); defaults from the process's directory (the repository)", async () => {
  const cwd = "/home/ada/project";
  const start = optionsOf<{ certs: string; acl?: string; clientCa?: string }>(
    await parseCommandLine(
      ["start", "--certs", "../ganache-certs", "--client-ca", "/etc/ca.crt"],
      2,
      { cwd, env: (n) => n === "GANACHE_ACL" ? "acl.json" : undefined },
    ),
    "start",
  );
  assert.equal(start.certs, "/home/ada/ganache-certs");
  assert.equal(start.clientCa, "/etc/ca.crt");
  assert.equal(start.acl, "/home/ada/project/acl.json");
  const byDefault = optionsOf<{ certs: string }>(
    await parseCommandLine(["start"], 2, { cwd }),
    "start",
  );
  assert.equal(byDefault.certs, `${Deno.cwd()}/certs`);
  const cfe = optionsOf<{ etcd: { ca?: string; cert?: string } }>(
    await parseCommandLine(
      ["cfe", "--etcd", "https://localhost:2379", "--etcd-ca", "c/ca.crt"],
      2,
      { cwd },
    ),
    "cfe",
  );
  assert.equal(cfe.etcd.ca, "/home/ada/project/c/ca.crt");
  const set = optionsOf<{ file?: string; args: string[] }>(
    await parseCommandLine(["set", "ns", "k", "--file", "v.bin"], 2, { cwd }),
    "set",
  );
  assert.equal(set.file, "/home/ada/project/v.bin");
  const stdin = optionsOf<{ args: string[] }>(
    await parseCommandLine(["set", "ns", "k", "-"], 2, { cwd }),
    "set",
  );
  assert.deepEqual(stdin.args, ["ns", "k", "-"]);
});
