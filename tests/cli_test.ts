/**
 * The program as a user runs it: `start` in its own process, booting from
 * an empty certificates directory, and the client roles with their exit
 * codes. Commands come from the tasks in deno.json, so their permission
 * flags are tested too.
 */
import assert from "node:assert/strict";
import { GanacheProcess, ROOT, taskArgs } from "./process_helpers.ts";

async function cli(args: string[], certs: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...taskArgs("cli", certs), ...args, "--certs", certs],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
  };
}

Deno.test("start boots from an empty certs directory; set/get/del/ttl/stats work with their exit codes; SIGTERM exits 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ganache-cli-" });
  const certs = `${dir}/certs`;
  const server = new GanacheProcess(
    "start",
    ["--port", "0", "--workers", "2", "--certs", certs],
    certs,
  );
  try {
    await server.waitFor(/generated development certificates in /);
    const [, port] = await server.waitFor(
      /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
    );
    const addr = ["--addr", `127.0.0.1:${port}`];
    for (
      const file of [
        "ca.crt",
        "ca.key",
        "cfe.crt",
        "cfe.key",
        "shard.crt",
        "shard.key",
        "client.crt",
        "client.key",
      ]
    ) {
      assert.ok((await Deno.stat(`${certs}/${file}`)).isFile, file);
    }
    assert.equal((await Deno.stat(`${certs}/ca.key`)).mode! & 0o777, 0o600);

    assert.deepEqual(
      await cli(["--", "set", "demo", "k", "v", ...addr], certs),
      { code: 0, stdout: "", stderr: "" },
    );
    assert.deepEqual(await cli(["get", "demo", "k", ...addr], certs), {
      code: 0,
      stdout: "v\n",
      stderr: "",
    });
    assert.deepEqual(await cli(["get", "demo", "missing", ...addr], certs), {
      code: 1,
      stdout: "",
      stderr: "",
    });
    assert.deepEqual(await cli(["ttl", "demo", "k", ...addr], certs), {
      code: 0,
      stdout: "0\n",
      stderr: "",
    });
    assert.deepEqual(
      await cli(["set", "demo", "t", "v", "--ttl", "60000", ...addr], certs),
      { code: 0, stdout: "", stderr: "" },
    );
    const ttl = await cli(["ttl", "demo", "t", ...addr], certs);
    assert.equal(ttl.code, 0);
    assert.ok(
      Number(ttl.stdout) > 50_000 && Number(ttl.stdout) <= 60_000,
      ttl.stdout,
    );
    assert.deepEqual(await cli(["del", "demo", "k", ...addr], certs), {
      code: 0,
      stdout: "deleted\n",
      stderr: "",
    });
    assert.deepEqual(await cli(["del", "demo", "k", ...addr], certs), {
      code: 0,
      stdout: "not found\n",
      stderr: "",
    });
    assert.deepEqual(await cli(["health", ...addr], certs), {
      code: 0,
      stdout: "SERVING\n",
      stderr: "",
    });
    const stats = await cli(["stats", ...addr], certs);
    assert.equal(stats.code, 0);
    assert.equal(JSON.parse(stats.stdout).shards.length, 2);

    const bad = await cli(["set", "demo", "", "v", ...addr], certs);
    assert.deepEqual(bad, {
      code: 2,
      stdout: "",
      stderr: "error: key is empty\n",
    });
    const unreachable = await cli(
      ["get", "demo", "k", "--addr", "127.0.0.1:1"],
      certs,
    );
    assert.equal(unreachable.code, 2);
    assert.match(unreachable.stderr, /^error: .*ECONNREFUSED.*\n$/);
    const usage = await cli(["get", "demo"], certs);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^error: get takes NS KEY/);

    server.kill("SIGTERM");
    assert.equal(await server.exited, 0);
    await server.waitFor(/stopped/);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--help describes the program and each role", async () => {
  const program = await cli(["--help"], "certs");
  assert.equal(program.code, 0);
  assert.match(program.stdout, /deno task start/);
  const start = await cli(["start", "--help"], "certs");
  assert.equal(start.code, 0);
  assert.match(start.stdout, /--max-bytes SIZE/);
  assert.match(start.stdout, /--no-client-auth/);
});
