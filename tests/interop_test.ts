/**
 * Cross-language interop: a Python grpcio client (tests/interop/python_client.py,
 * hand-written stubs over protoc-generated messages) talks to the server over
 * mutual TLS, and is refused without a client certificate.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startTestService } from "./helpers.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(
  new URL("./interop/python_client.py", import.meta.url),
);
const INSTALL_HINT =
  "apt-get install -y python3-grpcio python3-protobuf protobuf-compiler";

/** The exit code and output of a finished child process. */
interface PythonRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` to completion, capturing its output. */
async function run(cmd: string, args: string[]): Promise<PythonRun> {
  const output = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Fails (never skips) when the Python side's dependencies are missing. */
async function assertPythonReady(): Promise<void> {
  let probe: PythonRun;
  try {
    probe = await run(PYTHON, [
      "-c",
      "import grpc, google.protobuf.any_pb2, google.protobuf.wrappers_pb2",
    ]);
  } catch (error) {
    assert.fail(`cannot run ${PYTHON} (${error}); run: ${INSTALL_HINT}`);
  }
  assert.equal(
    probe.code,
    0,
    `${PYTHON} cannot import grpc/protobuf (${probe.stderr.trim()}); run: ${INSTALL_HINT}`,
  );
  try {
    const protoc = await run("protoc", ["--version"]);
    assert.equal(protoc.code, 0, protoc.stderr);
  } catch (error) {
    assert.fail(`protoc is not usable (${error}); run: ${INSTALL_HINT}`);
  }
}

/** Runs the Python client against `address` with a scratch protoc output dir. */
async function runPythonClient(
  address: string,
  certs: string,
  ...flags: string[]
): Promise<PythonRun> {
  const outDir = await Deno.makeTempDir({ prefix: "ganache-interop-" });
  try {
    return await run(PYTHON, [SCRIPT, address, certs, outDir, ...flags]);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
}

function describe(result: PythonRun): string {
  return `python exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

Deno.test("a Python grpcio client talks to the server over mutual TLS", async () => {
  await assertPythonReady();
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("interop");
  await ns.setString("from-deno", "hello from deno");

  const result = await runPythonClient(t.address, t.certs);
  assert.equal(result.code, 0, describe(result));
  assert.equal(
    result.stdout.trim(),
    '{"from_deno": "hello from deno", "missing": "NOT_FOUND", ' +
      '"empty_key": "INVALID_ARGUMENT", "health": "SERVING"}',
    describe(result),
  );

  assert.equal(await ns.getString("from-python"), "hello from python");
  assert.equal(await ns.getInt64("int-from-python"), -42n);
});

Deno.test("a Python client without a client certificate is refused; the server keeps serving", async () => {
  await assertPythonReady();
  await using t = await startTestService();
  const ns = (await t.connect()).namespace("interop");
  await ns.setString("k", "v");

  const result = await runPythonClient(
    t.address,
    t.certs,
    "--no-client-cert",
  );
  assert.equal(result.code, 0, describe(result));
  assert.equal(
    result.stdout.trim(),
    '{"no_client_cert": "UNAVAILABLE"}',
    describe(result),
  );

  assert.equal(await ns.getString("k"), "v");
});
