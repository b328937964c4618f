/**
 * Development certificates: a private CA and the leaf certificates that
 * Ganache's components present to each other (ECDSA P-256, PEM files).
 *
 * @module
 */
import { logger } from "../ops/log.ts";
import type { Ca } from "./cert_issuer.ts";

const log = logger("certs");

/** A leaf certificate that `ensureDevCerts` creates when it is missing. */
export interface LeafSpec {
  /** File stem: `<name>.crt` and `<name>.key`. */
  name: string;
  /** Subject common name, the identity ACLs match against. */
  commonName: string;
  /** Whether the certificate may authenticate a TLS server. */
  server: boolean;
  /** DNS names and IP addresses the certificate is valid for. */
  hosts: string[];
}

/**
 * The leaves of a development install. Frontends and shards also call
 * shards, so their certificates carry client usage as well as server usage.
 */
export const DEV_LEAVES: readonly LeafSpec[] = [
  {
    name: "cfe",
    commonName: "ganache-cfe",
    server: true,
    hosts: ["localhost", "127.0.0.1", "::1"],
  },
  {
    name: "shard",
    commonName: "ganache-shard",
    server: true,
    hosts: ["localhost", "127.0.0.1", "::1"],
  },
  { name: "client", commonName: "client", server: false, hosts: [] },
];

/** Common names of the certificates a shard accepts calls from. */
export const PEER_COMMON_NAMES = ["ganache-cfe", "ganache-shard"];

/** What `ensureDevCerts` found and did. */
export interface EnsureResult {
  /** Files written, by name (e.g. `ca.crt`). */
  created: string[];
  /** Whether a new CA was made (and so every leaf was remade). */
  newCa: boolean;
}

/** Every file a complete development install holds. */
const DEV_FILES = ["ca", ...DEV_LEAVES.map((leaf) => leaf.name)].flatMap((
  name,
) => [`${name}.crt`, `${name}.key`]);

/** The lock file that serialises certificate creation in one folder. */
const LOCK_FILE = ".ganache-certs.lock";
/** A lock older than this was left by a process that died: removed. */
const STALE_LOCK_MS = 10_000;
/** How long to wait for another process's lock before giving up. */
const LOCK_WAIT_MS = 30_000;

/**
 * Makes sure `dir` holds a CA and every leaf in {@linkcode DEV_LEAVES}.
 *
 * Without `ca.crt` a new CA is generated and every leaf is (re)issued under
 * it; with a CA, only missing leaves are issued (which needs `ca.key`).
 * Private keys are written with mode 0600.
 *
 * Safe when several processes start at once on one folder: creation holds
 * an exclusive lock file in `dir` (processes that find it wait, then use
 * what the holder made), files are written in a temporary folder and
 * renamed into place, and `ca.crt` comes last, so a process that sees
 * `ca.crt` sees every leaf issued with it.
 *
 * @param dir The certificates directory, created if missing.
 * @param options `force` remakes the CA and every leaf; `hosts` adds DNS
 * names or addresses to the server certificates (`cfe`, `shard`) it issues,
 * e.g. the service names of a container deployment.
 * @returns The files written.
 * @throws {Error} naming `dir` and the way out when this process may not
 * write there.
 */
export async function ensureDevCerts(
  dir: string,
  options: { force?: boolean; hosts?: string[] } = {},
): Promise<EnsureResult> {
  // A complete folder is only read: it may be one this process cannot write.
  if (options.force !== true && await isComplete(dir)) {
    return { created: [], newCa: false };
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
    const release = await lock(dir);
    try {
      return await create(dir, options);
    } finally {
      await release();
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(
        `cannot write certificates in ${dir}: this process may not write there (deno task start, cfe and shard write only in the repository's certs/, deno task cli nowhere). Make them with \`deno task certs --certs ${dir}\`, or point --certs at a folder that has them`,
      );
    }
    throw error;
  }
}

async function isComplete(dir: string): Promise<boolean> {
  const found = await Promise.all(DEV_FILES.map((f) => exists(`${dir}/${f}`)));
  return found.every(Boolean);
}

/** Takes the folder's lock file, waiting while another process holds it. */
async function lock(dir: string): Promise<() => Promise<void>> {
  const path = `${dir}/${LOCK_FILE}`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let delay = 10;
  while (true) {
    try {
      const file = await Deno.open(path, { createNew: true, write: true });
      file.close();
      return () => Deno.remove(path).catch(() => {});
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    const age = await Deno.stat(path).then(
      (info) => Date.now() - (info.mtime?.getTime() ?? Date.now()),
      () => 0,
    );
    if (age > STALE_LOCK_MS) {
      log.warn(`removing ${path}, left ${age} ms ago by a process that died`);
      await Deno.remove(path).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `cannot make certificates in ${dir}: another process has held ${path} for ${LOCK_WAIT_MS} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(200, delay * 2);
  }
}

/** Creates what is missing, under the folder's lock. */
async function create(
  dir: string,
  options: { force?: boolean; hosts?: string[] },
): Promise<EnsureResult> {
  // The X.509 library holds 3 MiB of heap: loaded only to issue.
  const { createCa, issueLeaf, readCa, writePair } = await import(
    "./cert_issuer.ts"
  );
  const newCa = options.force === true || !await hasCa(dir);
  const staging = await Deno.makeTempDir({ dir, prefix: ".ganache-new-" });
  try {
    const created: string[] = [];
    let ca: Ca | undefined;
    for (const leaf of DEV_LEAVES) {
      if (!newCa && await exists(`${dir}/${leaf.name}.crt`)) continue;
      ca ??= newCa ? await createCa() : await readCa(dir);
      const hosts = leaf.server ? [...leaf.hosts, ...options.hosts ?? []] : [];
      const issued = await issueLeaf(ca, { ...leaf, hosts });
      await writePair(staging, leaf.name, issued.cert, issued.privateKey);
      created.push(`${leaf.name}.key`, `${leaf.name}.crt`);
    }
    if (newCa) {
      ca ??= await createCa();
      await writePair(staging, "ca", ca.cert, ca.keys.privateKey);
      created.push("ca.key", "ca.crt");
    }
    // Keys before certificates, ca.crt last: what is seen is complete.
    for (const file of created) {
      await Deno.rename(`${staging}/${file}`, `${dir}/${file}`);
    }
    if (created.length > 0) log.info(`wrote ${created.join(", ")} in ${dir}`);
    return { created, newCa };
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

/**
 * Whether `dir` already has a CA certificate. Starting a server generates
 * certificates only when it has none, so operator-supplied ones are never
 * touched.
 */
export function hasCa(dir: string): Promise<boolean> {
  return exists(`${dir}/ca.crt`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
