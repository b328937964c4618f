/**
 * Ganache's only entrypoint: parses the role and its flags, then runs the
 * role. Run `deno task start` for the embedded service, or
 * `deno task cli -- --help` for every role. Without a role it prints the
 * usage and exits with code 2.
 *
 * @module
 */
import {
  type FlagValues,
  type Logging,
  parseRole,
  programHelp,
  type RoleSpec,
  UsageError,
} from "./shared/flags.ts";
import { logger, setLogFormat, setLogLevel } from "./shared/ops/log.ts";
import { denoVersionWarning } from "./shared/ops/runtime.ts";
import { describeEtcdError } from "./shared/cli/describe_error.ts";
import type { ClientCommand } from "./roles/client_commands.ts";

const log = logger("main");

/** A role as `main.ts` runs it. */
interface Role {
  /** What it takes on the command line. */
  spec: RoleSpec;
  /** Turns its parsed flags into its options. */
  parseOptions(values: FlagValues, cores: number): unknown;
  /** Runs it; resolves to the exit code, or to nothing for 0. */
  run(options: unknown): Promise<number | void>;
}

/** A client command of `roles/client_commands.ts`. */
async function clientCommand(command: ClientCommand): Promise<Role> {
  const { SPECS, parseOptions, run } = await import(
    "./roles/client_commands.ts"
  );
  return { spec: SPECS[command], parseOptions, run };
}

/**
 * Every role by name, in the order help lists them. A role's module is
 * imported only when it is asked for (importing one starts nothing).
 */
const ROLES: Record<string, () => Promise<Role>> = {
  start: async () => {
    const { SPEC, parseOptions, run } = await import("./roles/start.ts");
    return { spec: SPEC, parseOptions, run };
  },
  cfe: async () => {
    const { SPEC, parseOptions, run } = await import("./roles/cfe.ts");
    return { spec: SPEC, parseOptions, run };
  },
  shard: async () => {
    const { SPEC, parseOptions, run } = await import("./roles/shard.ts");
    return { spec: SPEC, parseOptions, run };
  },
  shards: async () => {
    const { SPEC, parseOptions, run } = await import("./roles/shards.ts");
    return { spec: SPEC, parseOptions, run };
  },
  certs: async () => {
    const { SPEC, parseOptions, run } = await import("./roles/certs.ts");
    return { spec: SPEC, parseOptions, run };
  },
  set: () => clientCommand("set"),
  get: () => clientCommand("get"),
  del: () => clientCommand("del"),
  ttl: () => clientCommand("ttl"),
  mget: () => clientCommand("mget"),
  mset: () => clientCommand("mset"),
  stats: () => clientCommand("stats"),
  health: () => clientCommand("health"),
  incr: () => clientCommand("incr"),
  setnx: () => clientCommand("setnx"),
  touch: () => clientCommand("touch"),
  flush: () => clientCommand("flush"),
};

/**
 * What the command line asks for: help, the usage (no role given: printed
 * on stderr, exit code 2), or a role with its options.
 */
export type Command =
  | { help: string }
  | { usage: string }
  | (Logging & { role: string; options: unknown });

/** Where a command line is read: the environment and the user's directory. */
export interface CommandLineContext {
  /** Reads an environment variable (`GANACHE_<FLAG>`, etcd credentials). */
  env?: (name: string) => string | undefined;
  /** The directory relative paths are resolved from (`INIT_CWD`). */
  cwd?: string;
}

async function allHelp(): Promise<string> {
  const roles = await Promise.all(Object.values(ROLES).map((load) => load()));
  return programHelp(roles.map((role) => role.spec));
}

/**
 * Parses the command line of `main.ts`.
 *
 * @param argv The arguments after `main.ts`.
 * @param cores The default number of workers.
 * @param context The environment, and where relative paths start.
 * @throws {UsageError} on anything it cannot make sense of.
 */
export async function parseCommandLine(
  argv: string[],
  cores: number,
  context: CommandLineContext = {},
): Promise<Command> {
  // `deno task cli -- set …` passes the `--` through.
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  const first = args[0];
  if (first === "--help" || first === "-h" || first === "help") {
    return { help: await allHelp() };
  }
  if (first === undefined) return { usage: await allHelp() };
  if (first.startsWith("-")) {
    throw new UsageError(
      `no role given before ${first}: run e.g. \`deno task start ${first} ...\` or \`deno task cli -- get NS KEY ${first} ...\``,
    );
  }
  if (!Object.hasOwn(ROLES, first)) {
    throw new UsageError(`unknown role "${first}"`);
  }
  return await parseArgsOf(first, args.slice(1), cores, context);
}

async function parseArgsOf(
  name: string,
  args: string[],
  cores: number,
  context: CommandLineContext,
): Promise<Command> {
  const role = await ROLES[name]!();
  const parsed = parseRole(args, {
    name,
    spec: role.spec,
    toOptions: (values) => role.parseOptions(values, cores),
    env: context.env,
    cwd: context.cwd,
  });
  return "help" in parsed ? parsed : { role: name, ...parsed };
}

/** Runs the command line and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let command;
  try {
    command = await parseCommandLine(argv, navigator.hardwareConcurrency, {
      env: (name) => Deno.env.get(name),
      cwd: initCwd(),
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\nRun with --help for usage.`);
    return 2;
  }
  if ("help" in command) {
    console.log(command.help);
    return 0;
  }
  if ("usage" in command) {
    console.error(`${command.usage}\n\nerror: no role given`);
    return 2;
  }
  setLogLevel(command.logLevel);
  setLogFormat(command.logFormat);
  const warning = denoVersionWarning();
  if (warning) log.warn(warning);
  const role = await ROLES[command.role]!();
  try {
    return await role.run(command.options) ?? 0;
  } catch (error) {
    const etcd = (command.options as { etcd?: { urls?: string[] } }).etcd;
    if (!etcd?.urls) throw error;
    console.error(`error: ${describeEtcdError(error, etcd.urls)}`);
    return 2;
  }
}

/**
 * The directory the user ran `deno task` in (`INIT_CWD`; `deno task`
 * itself runs in the repository), or `undefined` when not run by a task
 * or not allowed to read it.
 */
function initCwd(): string | undefined {
  const permission = Deno.permissions.querySync({
    name: "env",
    variable: "INIT_CWD",
  });
  return permission.state === "granted" ? Deno.env.get("INIT_CWD") : undefined;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : error}`);
    Deno.exit(2);
  }
}
