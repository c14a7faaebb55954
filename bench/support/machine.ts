import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** Describes the machine for a report: cores, processor model, memory, Node version and the 1-minute load average. */
export function describeMachine(): string {
  const memoryGib = (totalmem() / 2 ** 30).toFixed(1);
  const model = cpus()[0]?.model.trim() ?? 'unknown model';
  return `${availableParallelism()} cores (${model}), ${memoryGib} GiB memory, Node ${process.version}, load average ${loadavg()[0].toFixed(1)}`;
}
