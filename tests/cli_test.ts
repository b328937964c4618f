/**
 * The program as a user runs it: `deno task -q <task> ...` (the exact
 * command lines and permission flags of deno.json), typed from a directory
 * of the user's, with relative paths; servers in their own processes.
 */
import assert from "node:assert/strict";
import {
  ChildProcess,
  GanacheProcess,
  ROOT,
  taskArgs,
} from "./process_helpers.ts";

const decoder = new TextDecoder();

/** What a finished command printed. */
interface Output {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Uint8Array;
}

/** Options of {@linkcode task}. */
interface TaskOptions {
  /** Where the user typed the command. @default the repository */
  cwd?: string;
  /** What to pipe to stdin. */
  stdin?: string | Uint8Array;
}

/** Runs `deno task -q <name> ...args` as a user types it in `cwd`. */
export async function task(
  name: string,
  args: string[],
  options: TaskOptions = {},
): Promise<Output> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "--cwd", ROOT, name, ...args],
    cwd: options.cwd ?? ROOT,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(
      typeof options.stdin === "string"
        ? new TextEncoder().encode(options.stdin)
        : options.stdin,
    );
    await writer.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    bytes: out.stdout,
  };
}

/** A fresh folder under the repository's certs/, the one place start may write. */
function certsFolderInRepo(): Promise<string> {
  return Deno.makeTempDir({ dir: `${ROOT}certs`, prefix: ".test-" });
}

/** Starts `start` (exact task line) and resolves with it and its port. */
async function startServer(
  args: string[],
): Promise<{ server: GanacheProcess; port: string }> {
  const server = new GanacheProcess(
    "start",
    ["--port", "0", "--workers", "2", ...args],
    "",
  );
  const [, port] = await server.waitFor(
    /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
  );
  return { server, port: port! };
}

Deno.test("deno task cli without a role prints the usage and exits 2", async () => {
  const bare = await task("cli", []);
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, "");
  assert.match(bare.stderr, /^Ganache: /);
  assert.match(bare.stderr, /get NS KEY/);
  assert.match(bare.stderr, /error: no role given\n$/);
  const flagsOnly = await task("cli", ["--", "--port", "1"]);
  assert.equal(flagsOnly.code, 2);
  assert.match(flagsOnly.stderr, /^error: no role given before --port/);
  const help = await task("cli", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /mget NS KEY\.\.\./);
});

Deno.test("the CLI: types, stdin and --file, mset/mget, --ttl units, (not found) and exit codes, errors that name the frontend", async () => {
  const certsDir = await certsFolderInRepo();
  const user = await Deno.makeTempDir({ prefix: "ganache-user-" });
  const { server, port } = await startServer([
    "--certs",
    certsDir,
    "--max-value-bytes",
    "8MiB",
  ]);
  try {
    await server.waitFor(/generated development certificates in /);
    // Typed from the user's folder: --certs and --file are relative to it.
    await Deno.symlink(certsDir, `${user}/mycerts`);
    const flags = ["--addr", `127.0.0.1:${port}`, "--certs", "mycerts"];
    const cli = (args: string[], stdin?: string | Uint8Array) =>
      task("cli", [...args, ...flags], { cwd: user, stdin });
    const ok = (stdout: string) => ({ code: 0, stdout, stderr: "" });
    const text = ({ code, stdout, stderr }: Output) => ({
      code,
      stdout,
      stderr,
    });

    assert.deepEqual(
      text(await cli(["set", "demo", "greeting", "hello", "--ttl", "60s"])),
      ok(""),
    );
    assert.deepEqual(
      text(await cli(["get", "demo", "greeting"])),
      ok("hello\n"),
    );
    const ttl = Number((await cli(["ttl", "demo", "greeting"])).stdout);
    assert.ok(ttl > 50_000 && ttl <= 60_000, String(ttl));
    await cli(["set", "demo", "long", "v", "--ttl", "5m"]);
    const longTtl = Number((await cli(["ttl", "demo", "long"])).stdout);
    assert.ok(longTtl > 290_000 && longTtl <= 300_000, String(longTtl));
    await cli(["set", "demo", "ms", "v", "--ttl", "90000"]);
    const msTtl = Number((await cli(["ttl", "demo", "ms"])).stdout);
    assert.ok(msTtl > 80_000 && msTtl <= 90_000, String(msTtl));

    // Misses: (not found) on stderr, exit code 1; del and ttl too.
    const notFound = { code: 1, stdout: "", stderr: "(not found)\n" };
    assert.deepEqual(text(await cli(["get", "demo", "nope"])), notFound);
    assert.deepEqual(text(await cli(["ttl", "demo", "nope"])), notFound);
    assert.deepEqual(
      text(await cli(["del", "demo", "greeting"])),
      ok("deleted\n"),
    );
    assert.deepEqual(text(await cli(["del", "demo", "greeting"])), notFound);

    // Types.
    await cli(["set", "demo", "n", "-42", "--type", "int64"]);
    assert.deepEqual(text(await cli(["get", "demo", "n"])), ok("-42\n"));
    assert.deepEqual(
      text(await cli(["get", "demo", "n", "--type", "int64"])),
      ok("-42\n"),
    );
    const wrongType = await cli(["get", "demo", "n", "--type", "string"]);
    assert.equal(wrongType.code, 2);
    assert.match(wrongType.stderr, /Int64Value.*--type int64/);
    await cli(["set", "demo", "j", '{"a": [1, 2]}', "--type", "json"]);
    assert.deepEqual(
      text(await cli(["get", "demo", "j", "--type", "json"])),
      ok('{"a":[1,2]}\n'),
    );
    const badJson = await cli(["set", "demo", "j", "{", "--type", "json"]);
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /--type json takes JSON text/);
    await cli(["set", "demo", "b", "aGVsbG8=", "--type", "bytes"]);
    assert.deepEqual(text(await cli(["get", "demo", "b"])), ok("aGVsbG8=\n"));
    assert.deepEqual(
      text(await cli(["get", "demo", "b", "--raw"])),
      ok("hello"),
    );

    // The value from stdin, and a 5 MB one from a file (too long for argv).
    assert.equal(
      (await cli(["set", "demo", "s", "-"], "from stdin\n")).code,
      0,
    );
    assert.deepEqual(
      text(await cli(["get", "demo", "s", "--raw"])),
      ok("from stdin\n"),
    );
    const big = new Uint8Array(5_000_000);
    for (let i = 0; i < big.length; i += 65536) {
      crypto.getRandomValues(big.subarray(i, i + 65536));
    }
    await Deno.writeFile(`${user}/big.bin`, big);
    assert.deepEqual(
      text(
        await cli([
          "set",
          "demo",
          "big",
          "--file",
          "big.bin",
          "--type",
          "bytes",
          "--raw",
        ]),
      ),
      ok(""),
    );
    const bigBack = await cli(["get", "demo", "big", "--raw"]);
    assert.equal(bigBack.code, 0);
    assert.deepEqual(bigBack.bytes, big);
    const noFile = await cli(["set", "demo", "x", "--file", "missing.bin"]);
    assert.equal(noFile.code, 2);
    assert.equal(
      noFile.stderr,
      `error: cannot read --file ${user}/missing.bin: no such file\n`,
    );

    // mset and mget.
    assert.deepEqual(
      text(await cli(["mset", "demo", "a", "1", "b", "2"])),
      ok(""),
    );
    assert.deepEqual(
      text(await cli(["mget", "demo", "a", "b", "c"])),
      { code: 1, stdout: "1\n2\n(not found)\n", stderr: "" },
    );
    assert.deepEqual(text(await cli(["mget", "demo", "a", "b"])), ok("1\n2\n"));
    await cli([
      "mset",
      "demo",
      "x",
      "7",
      "y",
      "8",
      "--type",
      "int64",
      "--ttl",
      "1h",
    ]);
    assert.deepEqual(text(await cli(["mget", "demo", "x", "y"])), ok("7\n8\n"));

    assert.deepEqual(text(await cli(["health"])), ok("SERVING\n"));
    const stats = await cli(["stats"]);
    assert.equal(JSON.parse(stats.stdout).shards.length, 2);

    // Errors: one line, exit code 2, naming what failed.
    assert.deepEqual(text(await cli(["set", "demo", "", "v"])), {
      code: 2,
      stdout: "",
      stderr: "error: key is empty\n",
    });
    const usage = await cli(["get", "demo"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^error: get takes NS KEY/);
    const down = await task(
      "cli",
      ["get", "demo", "k", "--addr", "127.0.0.1:1", "--certs", "mycerts"],
      { cwd: user },
    );
    assert.deepEqual(text(down), {
      code: 2,
      stdout: "",
      stderr:
        "error: cannot reach the frontend at 127.0.0.1:1 (connection refused): is `deno task start` (or `deno task cfe`) running?\n",
    });
    const foreign = await Deno.makeTempDir({ prefix: "ganache-foreign-" });
    assert.equal((await task("certs", ["--certs", foreign])).code, 0);
    const tls = await task("cli", [
      "health",
      "--addr",
      `127.0.0.1:${port}`,
      "--certs",
      foreign,
    ]);
    assert.equal(tls.code, 2);
    assert.match(
      tls.stderr,
      /^error: TLS with the frontend at 127\.0\.0\.1:\d+ failed/,
    );
    await Deno.remove(foreign, { recursive: true });

    server.kill("SIGTERM");
    assert.equal(await server.exited, 0);
  } finally {
    await server.stop();
    await Deno.remove(certsDir, { recursive: true });
    await Deno.remove(user, { recursive: true });
  }
});

Deno.test("paths anywhere, relative to where the task was typed: certs makes them, start reads them and an ACL there, and says how when it may not write", async () => {
  const user = await Deno.makeTempDir({ prefix: "ganache-user-" });
  let server: ChildProcess | undefined;
  try {
    const refused = await task(
      "start",
      ["--certs", "mycerts", "--port", "0"],
      { cwd: user },
    );
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      new RegExp(
        `cannot write certificates in ${user}/mycerts: .*deno task certs --certs ${user}/mycerts`,
      ),
    );
    const made = await task("certs", ["--certs", "mycerts"], { cwd: user });
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /wrote .*ca\.crt/);
    assert.ok((await Deno.stat(`${user}/mycerts/client.key`)).isFile);
    assert.equal(
      (await Deno.stat(`${user}/mycerts/ca.key`)).mode! & 0o777,
      0o600,
    );
    const again = await task("certs", ["--certs", "mycerts"], { cwd: user });
    assert.match(again.stdout, /every certificate is already there/);

    await Deno.writeTextFile(`${user}/acl.json`, '{"client": ["demo"]}');
    server = new ChildProcess("start", Deno.execPath(), [
      "task",
      "-q",
      "--cwd",
      ROOT,
      "start",
      ...["--certs", "mycerts", "--acl", "acl.json", "--port", "0"],
      ...["--workers", "1"],
    ], { cwd: user });
    const [, port] = await server.waitFor(
      /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
    );
    const flags = ["--addr", `127.0.0.1:${port}`, "--certs", "mycerts"];
    const allowed = await task("cli", ["set", "demo", "k", "v", ...flags], {
      cwd: user,
    });
    assert.equal(allowed.code, 0, allowed.stderr);
    const denied = await task("cli", ["set", "other", "k", "v", ...flags], {
      cwd: user,
    });
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /namespace|permission/i);
    server.kill("SIGTERM");
    assert.equal(await server.exited, 0);
  } finally {
    await server?.stop(5000);
    await Deno.remove(user, { recursive: true });
  }
});

Deno.test("two starts at once on an empty certs folder end with one CA, and both serve certificates that verify", async () => {
  const certsDir = await certsFolderInRepo();
  const starts = [
    startServer(["--certs", certsDir]),
    startServer(["--certs", certsDir]),
  ];
  const servers = await Promise.allSettled(starts);
  try {
    const ports = servers.map((s) => {
      assert.equal(
        s.status,
        "fulfilled",
        String((s as PromiseRejectedResult).reason),
      );
      return (s as PromiseFulfilledResult<{ port: string }>).value.port;
    });
    const entries = [];
    for await (const entry of Deno.readDir(certsDir)) entries.push(entry.name);
    assert.deepEqual(entries.sort(), [
      "ca.crt",
      "ca.key",
      "cfe.crt",
      "cfe.key",
      "client.crt",
      "client.key",
      "shard.crt",
      "shard.key",
    ]);
    for (const port of ports) {
      const health = await task("cli", [
        "health",
        "--addr",
        `127.0.0.1:${port}`,
        "--certs",
        certsDir,
      ]);
      assert.deepEqual(
        { code: health.code, stdout: health.stdout, stderr: health.stderr },
        { code: 0, stdout: "SERVING\n", stderr: "" },
      );
    }
  } finally {
    for (const s of servers) {
      if (s.status === "fulfilled") await s.value.server.stop(5000);
    }
    await Deno.remove(certsDir, { recursive: true });
  }
});

Deno.test("two deno task certs at once on an empty folder make one CA that every leaf chains to", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ganache-certs-race-" });
  try {
    const [a, b] = await Promise.all([
      task("certs", ["--certs", dir]),
      task("certs", ["--certs", dir]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(
      [a, b].filter((r) => /wrote .*ca\.crt/.test(r.stdout)).length,
      1,
      a.stdout + b.stdout,
    );
    const verify = await new Deno.Command("openssl", {
      args: [
        "verify",
        "-CAfile",
        `${dir}/ca.crt`,
        `${dir}/cfe.crt`,
        `${dir}/shard.crt`,
        `${dir}/client.crt`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(verify.code, 0, decoder.decode(verify.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start exits 2 with the cause when its workers cannot load their module", async () => {
  const certsDir = await certsFolderInRepo();
  // The start task's line with the read list the cli task had before
  // (issue 12): the shard worker's module is unreadable.
  const args = taskArgs("start").map((word) =>
    word === "--allow-read" ? "--allow-read=certs,node_modules" : word
  );
  assert.notDeepEqual(args, taskArgs("start"));
  const server = new ChildProcess("start", Deno.execPath(), [
    ...args,
    ...["--port", "0", "--workers", "1", "--certs", certsDir],
  ]);
  try {
    assert.equal(await server.exited, 2);
    await server.stop();
    assert.match(
      server.log,
      /shard 0 could not start: .*5 times in a row .*Requires read access/,
    );
    assert.match(server.log, /^error: shard 0 could not start/m);
  } finally {
    await server.stop();
    await Deno.remove(certsDir, { recursive: true });
  }
});

Deno.test("etcd that cannot be reached is named, by the shards command and by a cfe that starts", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  const certsDir = await Deno.makeTempDir({ prefix: "ganache-certs-" });
  try {
    assert.equal((await task("certs", ["--certs", certsDir])).code, 0);
    const message =
      `error: etcd at ${url} is unreachable (connection refused): is etcd running, and do --etcd, --etcd-ca, --etcd-cert and --etcd-key match it?\n`;
    const shards = await task("cli", ["shards", "--etcd", url]);
    assert.deepEqual(
      { code: shards.code, stdout: shards.stdout, stderr: shards.stderr },
      { code: 2, stdout: "", stderr: message },
    );
    const cfe = await task("cfe", [
      ...["--etcd", url, "--port", "0", "--certs", certsDir],
      ...["--log-level", "error"],
    ]);
    assert.equal(cfe.code, 2);
    assert.equal(cfe.stderr, message);
  } finally {
    await Deno.remove(certsDir, { recursive: true });
  }
});

Deno.test("deno bench works as typed, with no permission flags", async () => {
  // Every benchmark module loads with no permissions (the worker-hop group
  // is ignored, saying why); --filter keeps the run short.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "--filter", "no benchmark has this name"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = decoder.decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.match(stderr, /worker hop benchmarks ignored: .*deno bench -R/);
});
