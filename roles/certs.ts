/**
 * The `certs` role: creates development certificates.
 *
 * @module
 */
import { ensureDevCerts } from "../shared/frontend/certs.ts";

/** Options of the `certs` role. */
export interface CertsOptions {
  /** The certificates directory. */
  dir: string;
  /** Make a new CA and reissue every certificate. */
  force: boolean;
  /** More names for the server certificates. */
  hosts: string[];
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
