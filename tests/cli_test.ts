/**
 * The program as a user runs it: `deno task -q <task> ...` (the exact
 * command lines and permission flags of deno.json), typed from a directory
 * of the user's, with relative paths; servers in their own processes.
 */
import assert from "node:assert/strict";
import { ChildProcess, ROOT, taskArgs } from "./process_helpers.ts";
import {
  certsFolderInRepo,
  type Output,
  startServer,
  task,
} from "./task_helpers.ts";

const decoder = new TextDecoder();

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
