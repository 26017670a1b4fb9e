import { readFileSync } from 'node:fs';
import { childPids } from '@dream/testenv';

/** CPU ticks (user+system) and RSS of one process from /proc (Linux); zeros elsewhere. */
function oneProcess(pid: number): { ticks: number; rssMb: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return { ticks, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return { ticks: 0, rssMb: 0 };
  }
}

/**
 * CPU ticks and RSS of a process and its live descendants (a gateway with GATEWAY_WORKERS > 1 is a
 * supervisor whose workers do the work); zeros elsewhere than Linux.
 */
export function procSample(pid: number): { ticks: number; rssMb: number } {
  const total = oneProcess(pid);
  for (const child of childPids(pid)) {
    const c = procSample(child);
    total.ticks += c.ticks;
    total.rssMb += c.rssMb;
  }
  return total;
}

/** Samples a process while a run lasts: CPU % over the window (100 = one core) and peak RSS. */
export class ProcWatch {
  private readonly start: { ticks: number; rssMb: number };
  private readonly t0 = process.hrtime.bigint();
  private peakRss: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.start = procSample(pid);
    this.peakRss = this.start.rssMb;
    this.timer = setInterval(() => {
      this.peakRss = Math.max(this.peakRss, procSample(this.pid).rssMb);
    }, 250);
    this.timer.unref();
  }

  stop(): { cpuPercent: number; rssMb: number; cpuMs: number } {
    clearInterval(this.timer);
    const end = procSample(this.pid);
    const seconds = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const cpuPercent = ((end.ticks - this.start.ticks) / 100 / seconds) * 100; // CLK_TCK = 100 on Linux
    return { cpuPercent: Math.round(cpuPercent), rssMb: Math.round(Math.max(this.peakRss, end.rssMb)), cpuMs: (end.ticks - this.start.ticks) * 10 };
  }
}
