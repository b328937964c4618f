/**
 * The `certs` role: creates development certificates.
 *
 * @module
 */
import type { FlagValues, RoleSpec } from "../shared/flags.ts";
import { ensureDevCerts } from "../shared/frontend/certs.ts";

/** What `certs` takes on the command line. */
export const SPEC: RoleSpec = {
  usage: "certs [flags]",
  summary:
    "Create development certificates (CA, cfe, shard, client), adding any that are missing.",
  positionals: [],
  flags: {
    certs: {
      type: "string",
      default: "certs",
      value: "DIR",
      help: "where to write them",
    },
    force: {
      type: "boolean",
      help: "make a new CA and reissue every certificate",
    },
    hosts: {
      type: "string",
      value: "NAMES",
      help:
        "more DNS names or addresses for the cfe and shard certificates, comma-separated (e.g. container service names)",
    },
  },
};

/** Options of the `certs` role. */
export interface CertsOptions {
  /** The certificates directory. */
  dir: string;
  /** Make a new CA and reissue every certificate. */
  force: boolean;
  /** More names for the server certificates. */
  hosts: string[];
}

/** The options of `certs` from its parsed {@linkcode SPEC} flags. */
export function parseOptions(values: FlagValues): CertsOptions {
  return {
    dir: values.text("certs")!,
    force: values.boolean("force"),
    hosts: (values.text("hosts") ?? "").split(",").map((h) => h.trim())
      .filter(Boolean),
  };
}

/** Creates the CA and leaf certificates that are missing in `dir`. */
export async function run(options: CertsOptions): Promise<void> {
  const result = await ensureDevCerts(options.dir, {
    force: options.force,
    hosts: options.hosts,
  });
  console.log(
    result.created.length === 0
      ? `${options.dir}: every certificate is already there`
      : `${options.dir}: wrote ${result.created.join(", ")}`,
  );
}
