/**
 * The flags of the client commands: those every command takes, and those
 * of reads and of writes (`--type`, `--ttl`).
 *
 * @module
 */
import type { Flags } from "../flags.ts";

/** The flags every client command takes. */
export const CLIENT_FLAGS: Flags = {
  addr: {
    type: "string",
    default: "127.0.0.1:40001",
    value: "HOST:PORT",
    help: "the frontend to talk to",
  },
  certs: {
    type: "string",
    default: "certs",
    value: "DIR",
    help: "directory with ca.crt, client.crt and client.key",
  },
  "server-name": {
    type: "string",
    value: "NAME",
    help:
      "name the server certificate must carry (default: the host, or localhost for an IP)",
  },
  "timeout-ms": {
    type: "string",
    default: "5000",
    value: "MS",
    help: "deadline of the call",
  },
};

const TYPE_HELP =
  "string, int64, json or bytes (bytes are base64 on the command line and on output, unless --raw)";

/** The flags of the writes: `--type` (default string) and `--ttl`. */
export const WRITE_FLAGS: Flags = {
  ...CLIENT_FLAGS,
  type: {
    type: "string",
    default: "string",
    value: "TYPE",
    help: TYPE_HELP,
  },
  ttl: {
    type: "string",
    value: "DURATION",
    help:
      "time to live: 60s, 5m, 2h, 1d, or a plain number of milliseconds (default: no expiry)",
  },
};

/** The flags of the reads: `--type` (default: the stored type). */
export const READ_FLAGS: Flags = {
  ...CLIENT_FLAGS,
  type: {
    type: "string",
    value: "TYPE",
    help: `${TYPE_HELP}; default: the stored value's own type`,
  },
};
