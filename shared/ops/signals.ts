/**
 * Running a server until the signals that ask it to stop.
 *
 * @module
 */
import type { Logger } from "./log.ts";

/** Resolves on the first SIGINT or SIGTERM. */
export function onShutdownSignal(): Promise<Deno.Signal> {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  return new Promise((resolve) => {
    const handlers = signals.map((signal) => {
      const handler = () => {
        signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]!));
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}

/**
 * Starts a server, runs it until SIGINT or SIGTERM, then closes it
 * gracefully. The signals are listened for before the server starts, so a
 * signal during startup still ends in a graceful stop.
 *
 * @param start Starts the server; a server whose `failed` rejects is closed
 * and the rejection rethrown (a failure the process cannot serve through).
 * @param log Where to say what happens.
 * @param stopping What closing does, for the log (e.g. "draining calls in flight").
 */
export async function serveUntilSignal(
  start: () => Promise<{ close(): Promise<void>; failed?: Promise<never> }>,
  log: Logger,
  stopping: string,
): Promise<void> {
  const signal = onShutdownSignal();
  const server = await start();
  try {
    await Promise.race([signal, server.failed ?? signal]);
  } catch (error) {
    log.error(`shutting down: ${(error as Error).message}`);
    await server.close();
    throw error;
  }
  log.info(`shutting down: ${stopping}`);
  await server.close();
  log.info("stopped");
}
