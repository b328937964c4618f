/**
 * {@linkcode Membership}: a frontend's view of the registrations in etcd,
 * kept current by a watch and a periodic re-read.
 *
 * @module
 */
import type { Etcd3 } from "etcd3";
import { logger } from "../ops/log.ts";
import type { ReplicaInfo } from "./remote_shard.ts";
import { readRegistrations, RESYNC_MS, SHARDS_PREFIX } from "./registry.ts";

const log = logger("registry");

/**
 * Follows the registrations: calls `onChange` with every shard's replicas
 * whenever they change (an etcd watch, and a full re-read every
 * {@linkcode RESYNC_MS}, so a broken watch cannot leave the view stale).
 * While etcd is unreachable the last view stays in force.
 */
export class Membership {
  readonly #etcd: Etcd3;
  readonly #shards: number;
  readonly #onChange: (replicas: ReplicaInfo[][]) => void;
  readonly #onEtcd: (up: boolean) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #watcher: { cancel(): Promise<void> } | undefined;
  #last = "";
  #reading = false;
  /** An event came while a read was running: read again when it ends. */
  #again = false;
  #etcdDown = false;

  /**
   * @param etcd The etcd client.
   * @param shards The cluster's shard count.
   * @param onChange Receives the replicas of each shard, by shard index.
   * @param onEtcd Told whether etcd answered, after each read.
   */
  constructor(
    etcd: Etcd3,
    shards: number,
    onChange: (replicas: ReplicaInfo[][]) => void,
    onEtcd: (up: boolean) => void = () => {},
  ) {
    this.#etcd = etcd;
    this.#shards = shards;
    this.#onChange = onChange;
    this.#onEtcd = onEtcd;
  }

  /** Reads the registrations once, then follows them. */
  async start(): Promise<void> {
    await this.#read(true);
    this.#timer = setInterval(() => this.#read(false), RESYNC_MS);
    await this.#watch();
  }

  /** Reads the registrations again now (e.g. a replica refused a key). */
  refresh(): void {
    this.#read(false);
  }

  /** Stops following. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#watcher?.cancel().catch(() => {});
  }

  async #watch(): Promise<void> {
    try {
      const watcher = await this.#etcd.watch().prefix(SHARDS_PREFIX).create();
      watcher.on("put", () => this.#read(false));
      watcher.on("delete", () => this.#read(false));
      watcher.on("error", () => {
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
    } catch {
      // The periodic re-read keeps the view current; try again then.
    }
  }

  async #read(mustSucceed: boolean): Promise<void> {
    if (this.#reading && !mustSucceed) {
      // Never drop an event: a replica registered while this read ran may
      // be missing from its answer, and writes must reach it at once.
      this.#again = true;
      return;
    }
    this.#reading = true;
    this.#again = false;
    try {
      const registered = await readRegistrations(this.#etcd, this.#shards);
      this.#onEtcd(true);
      if (this.#etcdDown) {
        log.info("etcd is reachable again");
        this.#etcdDown = false;
      }
      if (!this.#watcher && !mustSucceed) await this.#watch();
      const byShard: ReplicaInfo[][] = Array.from(
        { length: this.#shards },
        () => [],
      );
      for (const r of registered) {
        byShard[r.shard]?.push({
          address: r.address,
          state: r.state,
          registration: r.lease,
          startedAt: r.startedAt,
        });
      }
      byShard.forEach((replicas) =>
        replicas.sort((a, b) => a.address.localeCompare(b.address))
      );
      const view = JSON.stringify(byShard);
      if (view !== this.#last) {
        this.#last = view;
        this.#onChange(byShard);
      }
    } catch (error) {
      if (mustSucceed) throw error;
      this.#onEtcd(false);
      if (!this.#etcdDown) {
        log.warn(
          `etcd unreachable (${
            (error as Error).message
          }); routing with the last known membership`,
        );
        this.#etcdDown = true;
      }
    } finally {
      this.#reading = false;
      if (this.#again) this.#read(false);
    }
  }
}
