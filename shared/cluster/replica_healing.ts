/**
 * Healing a replica that was out of rotation: once it answers again it
 * gets writes (state `healing`), is asked to copy its shard again from a
 * ready peer (`Resync`), and returns to rotation when the copy is done.
 *
 * @module
 */
import { logger } from "../ops/log.ts";

const log = logger("remote_shard");
/** How long a replica may take to copy its shard again, in ms. */
const RESYNC_DEADLINE_MS = 5 * 60_000;

/** A replica's place in rotation, as one frontend sees it. */
export type Health = "up" | "down" | "healing";

/** What healing needs to know of a replica. */
export interface Healable {
  /** Its place in rotation; healing moves it. */
  health: Health;
  /** Its address, for logs. */
  address: string;
}

/**
 * Probes a replica marked down; if it answers, heals it.
 *
 * @param replica The replica, marked down.
 * @param shard Its shard number, for logs.
 * @param call Calls a method of the replica with an empty request.
 */
export function heal(
  replica: Healable,
  shard: number,
  call: (method: string, timeoutMs?: number) => Promise<unknown>,
): void {
  call("Stats").then(() => {
    if (replica.health !== "down") return;
    replica.health = "healing";
    log.info(
      `shard ${shard}: replica ${replica.address} answers again; asking it to copy its shard`,
    );
    return call("Resync", RESYNC_DEADLINE_MS).then(
      () => {
        if (replica.health !== "healing") return;
        replica.health = "up";
        log.info(
          `shard ${shard}: replica ${replica.address} healed; back in rotation`,
        );
      },
      (error) => {
        replica.health = "down";
        log.warn(
          `shard ${shard}: replica ${replica.address} could not copy its shard (${
            (error as Error).message
          }); trying again`,
        );
      },
    );
  }, () => {});
}
