/**
 * Development certificates: a private CA and the leaf certificates that
 * Ganache's components present to each other (ECDSA P-256, PEM files).
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";
import { logger } from "../ops/log.ts";

const log = logger("certs");

const EC_KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

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

interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

/**
 * Whether `dir` already has a CA certificate. Starting a server generates
 * certificates only when it has none, so operator-supplied ones are never
 * touched.
 */
export function hasCa(dir: string): Promise<boolean> {
  return exists(`${dir}/ca.crt`);
}

async function readCa(dir: string): Promise<Ca> {
  const certPem = await Deno.readTextFile(`${dir}/ca.crt`);
  let keyPem: string;
  try {
    keyPem = await Deno.readTextFile(`${dir}/ca.key`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      `Cannot issue certificates: ${dir}/ca.crt has no ca.key beside it (use --force to make a new CA)`,
    );
  }
  const cert = new x509.X509Certificate(certPem);
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(keyPem),
    EC_KEY,
    true,
    ["sign"],
  );
  const publicKey = await cert.publicKey.export(EC_KEY, ["verify"]);
  return { cert, keys: { privateKey, publicKey } };
}

async function createCa(): Promise<Ca> {
  const keys = await crypto.subtle.generateKey(EC_KEY, true, [
    "sign",
    "verify",
  ]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: "CN=Ganache development CA",
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function issueLeaf(
  ca: Ca,
  leaf: LeafSpec,
): Promise<{ cert: x509.X509Certificate; privateKey: CryptoKey }> {
  const keys = await crypto.subtle.generateKey(EC_KEY, true, [
    "sign",
    "verify",
  ]);
  const usages = [x509.ExtendedKeyUsage.clientAuth];
  if (leaf.server) usages.unshift(x509.ExtendedKeyUsage.serverAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(usages),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ];
  if (leaf.hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        leaf.hosts.map((host): x509.JsonGeneralName => ({
          type: isIP(host) ? "ip" : "dns",
          value: host,
        })),
      ),
    );
  }
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${leaf.commonName}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 825 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGNING,
    extensions,
  });
  return { cert, privateKey: keys.privateKey };
}

async function writePair(
  dir: string,
  name: string,
  cert: x509.X509Certificate,
  privateKey: CryptoKey,
): Promise<void> {
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", privateKey);
  await Deno.writeTextFile(
    `${dir}/${name}.key`,
    x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    { mode: 0o600 },
  );
  await Deno.chmod(`${dir}/${name}.key`, 0o600);
  await Deno.writeTextFile(`${dir}/${name}.crt`, cert.toString("pem"));
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

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive, as RFC 5280 requires
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
