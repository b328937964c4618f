/**
 * The README's commands, run as written by a new user: the Quick start and
 * the Cluster walkthrough, read from README.md itself, typed in a copy of
 * the repository (a fresh clone: no certificates, no node_modules), through
 * the real tasks and their deno.json permissions.
 *
 * Only ports are changed, so that the test can run beside anything else:
 * 2379, 40001, 40011 and 40012 in the commands become free ports, and the
 * commands that rely on the default port get it from `GANACHE_PORT` /
 * `GANACHE_ADDR` (and etcd its peer port from `ETCD_LISTEN_PEER_URLS`);
 * etcd's `--data-dir` becomes a temporary folder. A comment `# prints: X`
 * checks the output, `exit code N` the exit code, `(not found)` stderr.
 * `deno task test` is skipped: it is the suite this test is part of.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { ChildProcess, ROOT } from "./process_helpers.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);

/** One command of a README block, with what its comment promises. */
interface Step {
  /** The command as written (continuation lines joined). */
  command: string;
  /** Its trailing comment, if any. */
  comment: string;
}

/** The steps of the ```sh blocks in `markdown`. */
function shellSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  for (const [, body] of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = body!.replace(/\\\n\s*/g, "").split("\n");
    for (const line of lines) {
      if (/^\s*(#|$)/.test(line)) continue;
      const match = /^(.*?)(?:\s+#\s+(.*))?$/.exec(line)!;
      steps.push({ command: match[1]!.trim(), comment: match[2] ?? "" });
    }
  }
  return steps;
}

/** The README between a heading and the next heading of its level. */
function section(heading: string): string {
  const start = README.indexOf(heading);
  assert.ok(start >= 0, heading);
  const next = README.indexOf("\n## ", start + heading.length);
  return README.slice(start, next < 0 ? undefined : next);
}

/** A free TCP port on 127.0.0.1. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A copy of the repository's files, as a clone would have them. */
async function cloneOfRepository(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ganache-clone-" });
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-co", "--exclude-standard", "-z"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  const files = new TextDecoder().decode(listed.stdout).split("\0");
  for (const file of files.filter(Boolean)) {
    await Deno.mkdir(dirname(`${dir}/${file}`), { recursive: true });
    await Deno.copyFile(`${ROOT}${file}`, `${dir}/${file}`).catch(() => {});
  }
  return dir;
}

/** Long-running commands, and the line that says each is ready. */
const SERVERS: [RegExp, RegExp[]][] = [
  [/^deno task start\b/, [/serving ganache\.cfe\.CFE on/, /shards .* are up/]],
  [/^deno task shard\b/, [/shard \d+ replica \S+ is ready/]],
  [/^deno task cfe\b/, [
    /serving ganache\.cfe\.CFE on/,
    /routing to \d+ shards/,
  ]],
  [/^etcd\b/, [/ready to serve client requests|serving client traffic/]],
];

/** Runs a README block's steps in `cwd`, leaving its servers running. */
async function follow(
  steps: Step[],
  cwd: string,
  env: Record<string, string>,
  servers: ChildProcess[],
): Promise<string[]> {
  const done: string[] = [];
  let assignments = "";
  for (const { command, comment } of steps) {
    if (command === "deno task test") continue;
    if (/^[A-Z_]+=\S/.test(command) && !command.includes(" deno ")) {
      assignments += `${command}\n`;
      continue;
    }
    const script = `${assignments}${command}`;
    const server = SERVERS.find(([pattern]) => pattern.test(command));
    if (server) {
      const process = new ChildProcess(command, "bash", [
        "-c",
        `${assignments}exec ${command}`,
      ], { cwd, env });
      servers.push(process);
      for (const ready of server[1]) await process.waitFor(ready, 60_000);
      done.push(command);
      continue;
    }
    const out = await new Deno.Command("bash", {
      args: ["-c", script],
      cwd,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    const what = `${command}\nstdout: ${stdout}\nstderr: ${stderr}`;
    const code = Number(/exit code (\d)/.exec(comment)?.[1] ?? 0);
    assert.equal(out.code, code, what);
    const prints = /^prints: (.*)$/.exec(comment)?.[1];
    if (prints !== undefined) assert.equal(stdout.trim(), prints, what);
    const lines = /^a line each: (.*)$/.exec(comment)?.[1];
    if (lines !== undefined) {
      assert.deepEqual(stdout.trim().split("\n"), lines.split(", "), what);
    }
    if (comment.includes("(not found)")) {
      assert.match(stderr, /\(not found\)/, what);
    }
    if (comment.includes("as JSON")) JSON.parse(stdout);
    done.push(command);
  }
  return done;
}

async function stopAll(servers: ChildProcess[]): Promise<void> {
  for (const server of servers.reverse()) await server.stop(10_000);
}

Deno.test("the README's Quick start and Cluster walkthrough work as written in a fresh copy", async () => {
  const clone = await cloneOfRepository();
  const etcdData = await Deno.makeTempDir({ prefix: "ganache-etcd-" });
  const servers: ChildProcess[] = [];
  try {
    // Quick start: start, then the client commands from another terminal.
    const quickPort = freePort();
    const quick = shellSteps(README.slice(0, README.indexOf("\n## ")));
    assert.ok(quick.some((s) => s.command === "deno task start"));
    const quickDone = await follow(quick, clone, {
      GANACHE_PORT: String(quickPort),
      GANACHE_ADDR: `127.0.0.1:${quickPort}`,
    }, servers);
    assert.ok(quickDone.length >= 5, quickDone.join("\n"));
    assert.ok((await Deno.stat(`${clone}/certs/ca.crt`)).isFile);
    await stopAll(servers.splice(0));

    // The Cluster walkthrough, ports substituted.
    const ports: Record<string, number> = {
      "2379": freePort(),
      "40001": freePort(),
      "40011": freePort(),
      "40012": freePort(),
    };
    const cluster = shellSteps(section("## Cluster")).map((step) => ({
      ...step,
      command: step.command
        .replace(/\b(2379|40001|40011|40012)\b/g, (p) => String(ports[p]))
        .replaceAll("/tmp/ganache-etcd", etcdData),
    }));
    assert.ok(cluster.some((s) => s.command.startsWith("deno task certs")));
    const clusterDone = await follow(cluster, clone, {
      GANACHE_ADDR: `127.0.0.1:${ports["40001"]}`,
      ETCD_LISTEN_PEER_URLS: `http://127.0.0.1:${freePort()}`,
    }, servers);
    assert.ok(
      clusterDone.some((c) => c.startsWith("deno task cli -- shards")),
      clusterDone.join("\n"),
    );
  } finally {
    await stopAll(servers);
    await Deno.remove(clone, { recursive: true });
    await Deno.remove(etcdData, { recursive: true });
  }
});
