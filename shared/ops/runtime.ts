/**
 * Checks of the Deno runtime Ganache runs on.
 *
 * @module
 */

/** The Deno version Ganache is tested on and pinned to. */
export const PINNED_DENO = "2.9.3";

/**
 * Deno versions whose `node:http2` server aborts the process when a client
 * closes its connection after a burst of requests (any grpc-js server dies).
 */
export const BROKEN_DENO = ["2.9.4", "2.9.5", "2.9.6"];

/**
 * A warning about the running Deno version, or `undefined` when it is fine.
 *
 * @param version The version to check.
 * @default Deno.version.deno
 */
export function denoVersionWarning(
  version: string = Deno.version.deno,
): string | undefined {
  if (BROKEN_DENO.includes(version)) {
    return `Deno ${version} aborts grpc-js servers when clients disconnect after a burst; use Deno ${PINNED_DENO} (npm install -g deno@${PINNED_DENO})`;
  }
  if (version !== PINNED_DENO) {
    return `Ganache is tested on Deno ${PINNED_DENO}; this is Deno ${version}`;
  }
  return undefined;
}
