/**
 * The flags that say where etcd is, and the cluster's shard count kept
 * there (`cfe`, `shard` and `shards`). Credentials come from the
 * environment only, so that they never show in a process list.
 *
 * @module
 */
import {
  type Flag,
  type Flags,
  type FlagValues,
  UsageError,
} from "../flags.ts";
import type { EtcdOptions } from "./etcd.ts";

/** Environment variables holding etcd credentials (never logged). */
export const ETCD_USER_ENV = "GANACHE_ETCD_USER";
/** See {@linkcode ETCD_USER_ENV}. */
export const ETCD_PASSWORD_ENV = "GANACHE_ETCD_PASSWORD";

/** The flags that say where etcd is, in the order help lists them. */
export const ETCD_FLAGS: Flags = {
  etcd: {
    type: "string",
    value: "URLS",
    help:
      "etcd endpoints, comma-separated (required); credentials come from GANACHE_ETCD_USER and GANACHE_ETCD_PASSWORD",
  },
  "etcd-ca": {
    type: "string",
    value: "FILE",
    help: "CA of etcd's server certificate (https endpoints)",
  },
  "etcd-cert": {
    type: "string",
    value: "FILE",
    help: "client certificate for etcd",
  },
  "etcd-key": { type: "string", value: "FILE", help: "its private key" },
};

/** `--shards N`: the shard count a process creates or checks in etcd. */
export const SHARD_COUNT_FLAG: Flag = {
  type: "string",
  value: "N",
  help:
    "the cluster's shard count: creates ganache/config in etcd if absent, and refuses to start if it differs",
};

/**
 * Where etcd is, from the parsed {@linkcode ETCD_FLAGS} and the credentials
 * in the environment.
 *
 * @throws {UsageError} without `--etcd`.
 */
export function etcdOptions(values: FlagValues): EtcdOptions {
  const urls = values.text("etcd");
  if (!urls) throw new UsageError(`${values.role} needs --etcd URLS`);
  return {
    urls: urls.split(",").map((url) => url.trim()).filter(Boolean),
    ca: values.text("etcd-ca"),
    cert: values.text("etcd-cert"),
    key: values.text("etcd-key"),
    user: values.env(ETCD_USER_ENV),
    password: values.env(ETCD_PASSWORD_ENV),
  };
}
