/**
 * Certificate and path handling as a user meets it through `deno task`:
 * relative paths resolved from where the task was typed, and several
 * `start` or `certs` runs at once on an empty folder ending with one CA.
 */
import assert from "node:assert/strict";
import { ChildProcess, ROOT } from "./process_helpers.ts";
import { certsFolderInRepo, startServer, task } from "./task_helpers.ts";

const decoder = new TextDecoder();

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
