/**
 * Ganache's own version, recorded in shard registrations.
 *
 * @module
 */

/** The Ganache release. */
export const GANACHE_VERSION = "0.2.0";
