/**
 * {@linkcode ReplicaHandle}: one replica of a remote shard as the cache
 * operations reach it (`cluster_shard.ts`): through the frontend's own
 * connection and its view of the replica's health, so that a replica the
 * operations find failed leaves rotation for reads and writes alike.
 *
 * @module
 */

/** A replica that takes writes, as `RemoteShard.writers` hands it out. */
export interface ReplicaHandle {
  /** `host:port`. */
  address: string;
  /** Whether it serves reads (registered ready, in rotation, not refusing). */
  ready: boolean;
  /** Calls a `ganache.shard.Shard` method within the shard's deadline. */
  call<T>(method: string, request: unknown): Promise<T>;
  /**
   * Takes the replica out of rotation if `error` is a transport failure
   * or a deadline (it heals); tells whether it was one.
   */
  failed(error: unknown): boolean;
  /** The replica refused (FAILED_PRECONDITION): skip it for a while. */
  refused(error: unknown): void;
}
