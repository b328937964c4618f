/**
 * Ganache's only entrypoint: parses the role and its flags, then runs the
 * role. Run `deno task start` for the embedded service, or
 * `deno task cli -- --help` for every role.
 *
 * @module
 */
import { parseCommandLine, UsageError } from "./shared/args.ts";
import { logger, setLogFormat, setLogLevel } from "./shared/ops/log.ts";
import { denoVersionWarning } from "./shared/ops/runtime.ts";

const log = logger("main");

/** Runs the command line and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let command;
  try {
    command = parseCommandLine(
      argv,
      navigator.hardwareConcurrency,
      (name) => Deno.env.get(name),
    );
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\nRun with --help for usage.`);
    return 2;
  }
  if (command.role === "help") {
    console.log(command.text);
    return 0;
  }
  setLogLevel(command.logLevel);
  setLogFormat(command.logFormat);
  const warning = denoVersionWarning();
  if (warning) log.warn(warning);
  switch (command.role) {
    case "start": {
      const { run } = await import("./roles/start.ts");
      await run(command.options);
      return 0;
    }
    case "cfe": {
      const { run } = await import("./roles/cfe.ts");
      await run(command.options);
      return 0;
    }
    case "shard": {
      const { run } = await import("./roles/shard.ts");
      await run(command.options);
      return 0;
    }
    case "shards": {
      const { run } = await import("./roles/shards.ts");
      return await run(command.options);
    }
    case "certs": {
      const { run } = await import("./roles/certs.ts");
      await run({
        dir: command.dir,
        force: command.force,
        hosts: command.hosts,
      });
      return 0;
    }
    case "client": {
      const { run } = await import("./roles/client_commands.ts");
      return await run(command.options);
    }
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : error}`);
    Deno.exit(2);
  }
}
