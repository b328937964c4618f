/**
 * The container files, checked as far as a machine without a Docker
 * engine can: every service, command, port and certificate path they name
 * exists and parses.
 */
import assert from "node:assert/strict";
import YAML from "yaml";
import { parseCommandLine } from "../main.ts";
import { PINNED_DENO } from "../shared/ops/runtime.ts";
import { ROOT } from "./process_helpers.ts";

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  entrypoint?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

const compose = YAML.parse(await Deno.readTextFile(`${ROOT}compose.yaml`)) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const dockerfile = await Deno.readTextFile(`${ROOT}Dockerfile`);

/** The value after `flag` in a command. */
function flagValue(command: string[], flag: string): string | undefined {
  const at = command.indexOf(flag);
  return at < 0 ? undefined : command[at + 1];
}

Deno.test("compose.yaml starts etcd, two shards, a frontend and a smoke test", () => {
  assert.deepEqual(Object.keys(compose.services).sort(), [
    "certs",
    "cfe",
    "etcd",
    "shard1",
    "shard2",
    "smoke",
  ]);
  for (const [name, service] of Object.entries(compose.services)) {
    for (const dependency of Object.keys(service.depends_on ?? {})) {
      assert.ok(
        dependency in compose.services,
        `${name} depends on missing ${dependency}`,
      );
    }
  }
  assert.deepEqual(Object.keys(compose.services.smoke!.depends_on!), ["cfe"]);
});

Deno.test("every Ganache command in compose.yaml parses, with the ports it publishes", async () => {
  const roles: Record<string, string> = {};
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.build !== "." || !service.command || service.entrypoint) {
      continue;
    }
    const command = await parseCommandLine(service.command, 2);
    assert.ok("role" in command, `${name} asks for help`);
    roles[name] = command.role;
    for (const port of service.ports ?? []) {
      const [host, container] = port.split(":");
      assert.equal(host, container);
      assert.ok(
        [
          flagValue(service.command, "--port"),
          flagValue(service.command, "--metrics-port"),
        ].includes(container),
        `${name} publishes ${port} but does not listen on it`,
      );
    }
  }
  assert.deepEqual(roles, {
    certs: "certs",
    shard1: "shard",
    shard2: "shard",
    cfe: "cfe",
  });
});

Deno.test("the certificates name every service that is dialled by name, and every service mounts them", () => {
  const hosts = flagValue(compose.services.certs!.command!, "--hosts")!.split(
    ",",
  );
  for (const shard of ["shard1", "shard2"]) {
    const advertise = flagValue(
      compose.services[shard]!.command!,
      "--advertise",
    )!;
    assert.ok(
      hosts.includes(advertise.split(":")[0]!),
      `${advertise} is not in the certificates`,
    );
  }
  assert.ok(hosts.includes("cfe"));
  assert.match(compose.services.smoke!.command![0]!, /--addr cfe:40001/);
  // The image works in /app and keeps certificates in its default `certs` directory.
  assert.match(dockerfile, /^WORKDIR \/app$/m);
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.build !== ".") continue;
    assert.ok(
      service.volumes?.includes("certs:/app/certs"),
      `${name} does not mount certs`,
    );
  }
  assert.ok("certs" in compose.volumes);
});

Deno.test("the Dockerfile pins Deno, copies what exists, runs as a non-root user, and has a health check", async () => {
  assert.match(
    dockerfile,
    new RegExp(
      `^FROM denoland/deno:${PINNED_DENO.replaceAll(".", "\\.")}$`,
      "m",
    ),
  );
  for (const [, sources] of dockerfile.matchAll(/^COPY (.+) \S+$/gm)) {
    for (const source of sources!.split(" ")) {
      await Deno.stat(`${ROOT}${source}`);
    }
  }
  assert.match(dockerfile, /^USER deno$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\n?.*"main\.ts", "health"\]/m);
  assert.match(
    dockerfile,
    /^ENTRYPOINT \[.*"--allow-write=certs", "main\.ts"\]$/m,
  );
  const health = await parseCommandLine(
    ["health"],
    2,
    { env: (name) => ({ GANACHE_ADDR: "127.0.0.1:40011" })[name] },
  );
  assert.equal(
    "role" in health && (health.options as { addr: string }).addr,
    "127.0.0.1:40011",
  );
});
