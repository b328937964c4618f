/**
 * The client as a package: another Deno project, outside the repository,
 * depends on `@ganache/cache` by path (`links` in its deno.json), type-checks
 * against its exports and talks to a real server; a Node 20 program does
 * the same with the ES module `deno task bundle` builds.
 */
import assert from "node:assert/strict";
import { ROOT } from "./process_helpers.ts";
import { startTestService } from "./helpers.ts";

const decoder = new TextDecoder();

async function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(command, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** What both programs print once they have used the client. */
const EXPECTED = {
  strings: ["1", "2", null],
  ints: ["5", "-6"],
  json: [{ name: "Ada" }],
  greeting: "hello",
};

Deno.test("another Deno project depends on @ganache/cache by path and uses its typed helpers", async () => {
  await using service = await startTestService();
  const project = await Deno.makeTempDir({ prefix: "ganache-consumer-" });
  try {
    await Deno.writeTextFile(
      `${project}/deno.json`,
      JSON.stringify({
        links: [ROOT],
        imports: { "@ganache/cache": "jsr:@ganache/cache@^0.1.0" },
      }),
    );
    await Deno.writeTextFile(
      `${project}/main.ts`,
      `import { GanacheClient, type StatsResponse } from "@ganache/cache";

const [address, certs] = Deno.args;
const client = await GanacheClient.connect({ address, certs });
const ns = client.namespace("pkg");
await ns.multiSetString({ a: "1", b: "2" });
const strings: (string | undefined)[] = await ns.multiGetString(["a", "b", "c"]);
await ns.multiSetInt64(new Map([["n", 5n], ["m", -6n]]));
const ints: (bigint | undefined)[] = await ns.multiGetInt64(["n", "m"]);
await ns.multiSetJSON([["user", { name: "Ada" }]]);
const json = await ns.multiGetJSON<{ name: string }>(["user"]);
await ns.setString("greeting", "hello", { ttlMs: 60_000 });
const greeting: string | undefined = await ns.getString("greeting");
const stats: StatsResponse = await client.stats();
client.close();
console.log(JSON.stringify({
  strings: strings.map((s) => s ?? null),
  ints: ints.map(String),
  json,
  greeting,
  shards: stats.shards.length,
}));
`,
    );
    const check = await run(Deno.execPath(), ["check", "main.ts"], project);
    assert.equal(check.code, 0, check.stderr);
    const out = await run(Deno.execPath(), [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "main.ts",
      service.address,
      service.certs,
    ], project);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), { ...EXPECTED, shards: 2 });
  } finally {
    await Deno.remove(project, { recursive: true });
  }
});

Deno.test("a Node 20 program uses the client bundled by deno task bundle", async () => {
  const bundle = await run(Deno.execPath(), ["task", "-q", "bundle"], ROOT);
  assert.equal(bundle.code, 0, bundle.stderr);
  await using service = await startTestService();
  const project = await Deno.makeTempDir({ prefix: "ganache-node-" });
  try {
    await Deno.copyFile(
      `${ROOT}dist/ganache-client.mjs`,
      `${project}/ganache-client.mjs`,
    );
    await Deno.writeTextFile(
      `${project}/main.mjs`,
      `import { GanacheClient } from "./ganache-client.mjs";

const [address, certs] = process.argv.slice(2);
const client = await GanacheClient.connect({ address, certs });
const ns = client.namespace("pkg");
await ns.multiSetString({ a: "1", b: "2" });
const strings = await ns.multiGetString(["a", "b", "c"]);
await ns.multiSetInt64(new Map([["n", 5n], ["m", -6n]]));
const ints = await ns.multiGetInt64(["n", "m"]);
await ns.multiSetJSON([["user", { name: "Ada" }]]);
const json = await ns.multiGetJSON(["user"]);
await ns.setString("greeting", "hello", { ttlMs: 60000 });
const greeting = await ns.getString("greeting");
client.close();
console.log(JSON.stringify({
  strings: strings.map((s) => s ?? null),
  ints: ints.map(String),
  json,
  greeting,
}));
`,
    );
    const version = await run("node", ["--version"], project);
    assert.match(version.stdout, /^v\d+/);
    const out = await run(
      "node",
      ["main.mjs", service.address, service.certs],
      project,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), EXPECTED);
  } finally {
    await Deno.remove(project, { recursive: true });
  }
});
