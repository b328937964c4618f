/**
 * Connecting to etcd (`npm:etcd3`), with TLS and user/password auth when
 * configured.
 *
 * @module
 */
import { Etcd3 } from "etcd3";
import { Buffer } from "node:buffer";
import { readFile } from "node:fs/promises";
import { tlsChannelOptions } from "../frontend/tls.ts";

/** How long one etcd request may take, in ms. */
const ETCD_CALL_TIMEOUT_MS = 3000;

/** Where etcd is and how to authenticate to it. */
export interface EtcdOptions {
  /** Endpoints, e.g. `http://127.0.0.1:2379` (comma-separated on the command line). */
  urls: string[];
  /** CA of etcd's server certificate, for `https` endpoints. */
  ca?: string;
  /** Client certificate for etcd's client-cert auth. */
  cert?: string;
  /** Its private key. */
  key?: string;
  /** User for etcd's user/password auth (from `GANACHE_ETCD_USER`). */
  user?: string;
  /** Its password (from `GANACHE_ETCD_PASSWORD`). */
  password?: string;
}

/**
 * Creates an etcd client. Unary calls have a deadline, so that a caller
 * never hangs while etcd is down; watches and lease keep-alives reconnect
 * by themselves.
 */
export async function connectEtcd(options: EtcdOptions): Promise<Etcd3> {
  const hosts = options.urls.map((url) => url.replace(/\/+$/, ""));
  return new Etcd3({
    hosts,
    dialTimeout: ETCD_CALL_TIMEOUT_MS,
    // Under Deno, TLS to an IP address needs a server name (see tls.ts).
    grpcOptions: options.ca && hosts[0]
      ? tlsChannelOptions(new URL(hosts[0]).host)
      : undefined,
    credentials: options.ca
      ? {
        rootCertificate: Buffer.from(await readFile(options.ca)),
        privateKey: options.key
          ? Buffer.from(await readFile(options.key))
          : undefined,
        certChain: options.cert
          ? Buffer.from(await readFile(options.cert))
          : undefined,
      }
      : undefined,
    auth: options.user !== undefined
      ? { username: options.user, password: options.password ?? "" }
      : undefined,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS },
  });
}
