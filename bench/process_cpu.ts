/**
 * CPU time from Linux's `/proc`: of a server process split by thread kind
 * (its main thread, its shard workers, the rest: V8's helper threads and the
 * runtime's), of this process, and of the whole machine, so that a
 * benchmark can tell which of them was busy.
 *
 * @module
 */

/** Clock ticks per second of `/proc` times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds a server process spent, by thread kind. */
export interface ServerCpu {
  /** The main thread: gRPC, TLS and the frontend. */
  main: number;
  /** The shard workers (threads named `worker-N`). */
  workers: number;
  /** Every other thread: V8's garbage collector and compiler, the runtime. */
  other: number;
}

/** utime + stime, in seconds, of a `/proc/.../stat` line. */
function statSeconds(stat: string): number {
  // The command name may hold spaces; the fields after it do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * The CPU seconds process `pid` has spent so far, by thread kind. Threads
 * that ended are not counted, so compare figures of threads that live
 * throughout.
 */
export function serverCpu(pid: number): ServerCpu {
  const cpu: ServerCpu = { main: 0, workers: 0, other: 0 };
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    let stat: string;
    let name: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/stat`);
      name = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/comm`);
    } catch {
      continue; // the thread ended meanwhile
    }
    const seconds = statSeconds(stat);
    if (Number(entry.name) === pid) cpu.main += seconds;
    else if (name.startsWith("worker-")) cpu.workers += seconds;
    else cpu.other += seconds;
  }
  return cpu;
}

/** The CPU seconds this process has spent so far (all its threads). */
export function ownCpu(): number {
  return statSeconds(Deno.readTextFileSync("/proc/self/stat"));
}

/** The CPU seconds the whole machine has spent busy so far (not idle). */
export function machineBusy(): number {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0]!;
  const ticks = line.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest is within user)
  const [user, nice, system, , , irq, softirq, steal] = ticks;
  return (user! + nice! + system! + irq! + softirq! + steal!) /
    TICKS_PER_SECOND;
}
