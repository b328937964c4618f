/**
 * The program as a user runs it: `start` in its own process, booting from
 * an empty certificates directory, and the client roles with their exit
 * codes. Commands come from the tasks in deno.json, so their permission
 * flags are tested too.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const TASKS: Record<string, string> = JSON.parse(
  await Deno.readTextFile(`${ROOT}deno.json`),
).tasks;

/** A task's command line as arguments, with `--allow-write=certs` pointed at `certs`. */
function taskArgs(task: string, certs: string): string[] {
  const words = TASKS[task]!.replaceAll("'", "").split(/\s+/);
  assert.equal(words[0], "deno");
  return words.slice(1).map((word) =>
    word === "--allow-write=certs" ? `--allow-write=${certs}` : word
  );
}

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

/** Reads stderr lines until one matches, returning the match. */
async function waitForLine(
  lines: AsyncIterator<string>,
  pattern: RegExp,
): Promise<RegExpMatchArray> {
  const seen: string[] = [];
  while (true) {
    const { value, done } = await lines.next();
    if (done) {
      throw new Error(
        `process ended before ${pattern}; it said:\n${seen.join("\n")}`,
      );
    }
    seen.push(value);
    const match = value.match(pattern);
    if (match) return match;
  }
}

async function* lineReader(stream: ReadableStream<Uint8Array>) {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    yield* lines;
  }
}

Deno.test("start boots from an empty certs directory; set/get/del/ttl/stats work with their exit codes; SIGTERM exits 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ganache-cli-" });
  const certs = `${dir}/certs`;
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      ...taskArgs("start", certs),
      "--port",
      "0",
      "--workers",
      "2",
      "--certs",
      certs,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = lineReader(server.stderr);
  try {
    await waitForLine(lines, /generated development certificates in /);
    const [, port] = await waitForLine(
      lines,
      /serving ganache\.cfe\.CFE on 127\.0\.0\.1:(\d+)/,
    );
    const addr = ["--addr", `127.0.0.1:${port}`];
    for (
      const file of [
        "ca.crt",
        "ca.key",
        "cfe.crt",
        "cfe.key",
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
    await waitForLine(lines, /stopped/);
    assert.equal((await server.status).code, 0);
  } finally {
    try {
      server.kill("SIGKILL");
    } catch {
      // already exited
    }
    for await (const _ of lines) { /* drain */ }
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
