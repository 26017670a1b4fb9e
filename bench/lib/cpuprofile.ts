import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that self time needs. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

/** Where a script URL belongs: a package under node_modules, our own source folder, or node's internals. */
export function ownerOf(url: string): string {
  if (!url) return '(native / idle / gc)';
  if (url.startsWith('node:')) return 'node:internal';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const ours = /\/(gateway|packages\/common|packages\/testenv)\/src\/(.*)$/.exec(url);
  return ours ? `${ours[1]}/src/${ours[2]}` : url;
}

/** Self time summed by a key of each sampled frame, largest first (idle and program time left out of the shares). */
export function selfTimes(dir: string, key: (frame: CpuProfile['nodes'][number]['callFrame']) => string, top = 25): SelfTime[] {
  const totals = new Map<string, number>();
  let all = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    p.samples.forEach((id, i) => {
      const frame = byId.get(id)!;
      if (frame.functionName === '(idle)' || frame.functionName === '(program)') return;
      const k = key(frame);
      const ms = (p.timeDeltas[i] ?? 0) / 1000;
      totals.set(k, (totals.get(k) ?? 0) + ms);
      all += ms;
    });
  }
  if (all === 0) return []; // no profile written (the process was killed before it could write one)
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), share: Math.round((ms / all) * 1000) / 10 }));
}
