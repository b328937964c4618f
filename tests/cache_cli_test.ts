/**
 * The CLI's `incr`, `setnx`, `touch`, `flush` and `del` with several keys,
 * as a user runs them (`deno task -q cli ...`, the exact task lines)
 * against `start` in its own process.
 */
import assert from "node:assert/strict";
import { GanacheProcess, ROOT } from "./process_helpers.ts";

const decoder = new TextDecoder();

/** Runs `deno task -q cli ...args` in the repository. */
async function cli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "--cwd", ROOT, "cli", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

Deno.test("the CLI: incr, setnx, touch, flush and del of several keys", async () => {
  const certs = await Deno.makeTempDir({
    dir: `${ROOT}certs`,
    prefix: ".test-",
  });
  const server = new GanacheProcess(
    "start",
    ["--port", "0", "--workers", "2", "--certs", certs],
    "",
  );
  try {
    const [, port] = await server.waitFor(
      /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
    );
    const flags = ["--addr", `127.0.0.1:${port}`, "--certs", certs];
    const run = (...args: string[]) => cli([...args, ...flags]);
    const ok = (stdout: string) => ({ code: 0, stdout, stderr: "" });

    assert.deepEqual(await run("incr", "demo", "n"), ok("1\n"));
    assert.deepEqual(await run("incr", "demo", "n", "-5"), ok("-4\n"));
    assert.deepEqual(await run("get", "demo", "n"), ok("-4\n"));
    await run("set", "demo", "big", "9223372036854775806", "--type", "int64");
    assert.deepEqual(
      await run("incr", "demo", "big"),
      ok("9223372036854775807\n"),
    );
    const overflow = await run("incr", "demo", "big");
    assert.equal(overflow.code, 2);
    assert.match(overflow.stderr, /^error: .*int64/);
    assert.equal((await run("incr", "demo", "n", "x")).code, 2);

    assert.deepEqual(await run("setnx", "demo", "s", "hello"), ok("stored\n"));
    assert.deepEqual(await run("setnx", "demo", "s", "again"), {
      code: 1,
      stdout: "",
      stderr: "(exists)\n",
    });
    assert.deepEqual(await run("get", "demo", "s"), ok("hello\n"));

    assert.deepEqual(
      await run("touch", "demo", "s", "--ttl", "60s"),
      ok("touched\n"),
    );
    const left = Number((await run("ttl", "demo", "s")).stdout);
    assert.ok(left > 50_000 && left <= 60_000, String(left));
    assert.deepEqual(await run("touch", "demo", "s"), ok("touched\n"));
    assert.deepEqual(await run("ttl", "demo", "s"), ok("0\n"));
    assert.deepEqual(await run("touch", "demo", "nope"), {
      code: 1,
      stdout: "",
      stderr: "(not found)\n",
    });

    assert.deepEqual(await run("del", "demo", "s", "n", "nope"), {
      code: 1,
      stdout: "deleted\ndeleted\n(not found)\n",
      stderr: "",
    });
    assert.deepEqual(await run("flush", "demo"), ok("flushed\n"));
    assert.equal((await run("get", "demo", "big")).code, 1);
  } finally {
    await server.stop();
    await Deno.remove(certs, { recursive: true });
  }
});
