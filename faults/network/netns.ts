import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * Private test hosts on this machine: one network namespace per host, each joined by a veth pair to a
 * bridge in the root namespace (which holds the .1 address, so the test process reaches every host).
 * Faults are nftables rules inside a host's namespace: DROP (packets vanish, nothing is refused, like a
 * cut cable or a black-holing firewall) and DNAT (to pass a host's traffic through a delaying relay).
 *
 * Names carry a per-run prefix `dsn<pid base 36>` (interface names stay ≤ 15 characters). Everything is
 * removed by `destroy()`; if the test process dies first, a small watchdog shell removes it, and
 * `TestNet.create` sweeps what runs of dead processes left behind.
 */

/** Everything this harness creates starts with this. */
const FAMILY = 'dsn';
const NAME_RE = /^dsn([0-9a-z]+)(?:br|v\d+|-.+)$/;

export interface Host {
  name: string;
  /** The network namespace. */
  ns: string;
  ip: string;
}

export interface Fault {
  describe: string;
  heal(): Promise<void>;
}

async function ip(...args: string[]): Promise<string> {
  return (await exec('ip', args)).stdout;
}

async function nft(ns: string, script: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c) => (err += c));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft in ${ns} failed (${code}): ${err.trim()}\n${script}`))));
    p.stdin.end(script);
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** A shell script that kills every process in the run's namespaces and removes them and the bridge. */
function cleanupScript(prefix: string): string {
  return [
    `for ns in $(ip netns list | awk '{print $1}' | grep '^${prefix}-'); do`,
    `  for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null; done`,
    `  ip netns del "$ns" 2>/dev/null`,
    `done`,
    // root-side veth ends and the bridge: deleting one end removes the pair even while the kernel is
    // still tearing down a namespace (it can linger after "ip netns del" while its sockets drain)
    `for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^${prefix}'); do ip link del "$l" 2>/dev/null; done`,
    `true`,
  ].join('\n');
}

/** True when this machine lets us build namespaces (root, iproute2 and nftables present). */
export function netnsSupported(): { ok: boolean; why?: string } {
  if (process.platform !== 'linux') return { ok: false, why: 'not Linux' };
  if (process.getuid?.() !== 0) return { ok: false, why: 'not root' };
  for (const bin of ['ip', 'nft']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return { ok: false, why: `${bin} is not installed (apt-get install -y iproute2 nftables)` };
    }
  }
  return { ok: true };
}

export class TestNet {
  readonly prefix: string;
  readonly bridge: string;
  /** The root namespace's address on the bridge: where the test process (load, relays) lives. */
  readonly rootIp: string;
  readonly hosts: Host[] = [];
  private faults = 0;
  private watchdog?: number;
  private destroyed = false;

  private constructor(readonly subnet: string) {
    this.prefix = `${FAMILY}${process.pid.toString(36)}`;
    this.bridge = `${this.prefix}br`;
    this.rootIp = `${subnet}.1`;
  }

  /** Sweeps leftovers of dead runs, picks a free 10.213.x.0/24 and brings the bridge up. */
  static async create(): Promise<TestNet> {
    await TestNet.sweep();
    const routes = await ip('-4', 'route');
    const start = 20 + (process.pid % 200);
    let subnet: string | undefined;
    for (let i = 0; i < 200 && !subnet; i++) {
      const candidate = `10.213.${((start + i) % 230) + 20}`;
      if (!routes.includes(`${candidate}.`)) subnet = candidate;
    }
    if (!subnet) throw new Error('no free 10.213.x.0/24 for the test network');
    const net = new TestNet(subnet);
    await net.startWatchdog();
    try {
      await ip('link', 'add', net.bridge, 'type', 'bridge');
      await ip('addr', 'add', `${net.rootIp}/24`, 'dev', net.bridge);
      await ip('link', 'set', net.bridge, 'up');
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  /** Removes namespaces and bridges whose creating process is gone. */
  static async sweep(): Promise<void> {
    const names = new Set<string>();
    for (const line of (await ip('netns', 'list')).split('\n')) names.add(line.split(' ')[0]);
    for (const line of (await ip('-o', 'link', 'show')).split('\n')) {
      const m = /^\d+:\s+([^:@]+)/.exec(line);
      if (m) names.add(m[1]);
    }
    const dead = new Set<string>();
    for (const n of names) {
      const m = NAME_RE.exec(n);
      if (m && !alive(parseInt(m[1], 36))) dead.add(`${FAMILY}${m[1]}`);
    }
    for (const prefix of dead) await exec('sh', ['-c', cleanupScript(prefix)]);
  }

  /**
   * A detached shell that waits for this process to die and then cleans up, so even a SIGKILLed test
   * run leaves no namespace, process or bridge behind. `destroy()` stops it.
   */
  private async startWatchdog(): Promise<void> {
    const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done\n${cleanupScript(this.prefix)}`;
    const p = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
    p.unref();
    this.watchdog = p.pid;
  }

  /** A new host: namespace, loopback up, veth pair to the bridge, the next address. */
  async addHost(name: string): Promise<Host> {
    const index = this.hosts.length + 1;
    const ns = `${this.prefix}-${name}`;
    const veth = `${this.prefix}v${index}`;
    if (veth.length > 15) throw new Error(`interface name too long: ${veth}`);
    const host: Host = { name, ns, ip: `${this.subnet}.${10 + index}` };
    await ip('netns', 'add', ns);
    this.hosts.push(host);
    await ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('link', 'set', veth, 'master', this.bridge, 'up');
    await ip('-n', ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    return host;
  }

  /** Command and arguments that run `command` inside `host`'s namespace. */
  wrap(host: Host, command: string, args: string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', host.ns, command, ...args] };
  }

  /**
   * Drops every packet between `a` and `b` (both directions, rules in `a`'s namespace), or only those to
   * and from `ports` of `b`. Connections in flight hang until their timeouts; new ones time out.
   */
  async cut(a: Host, b: Host, opts: { ports?: number[] } = {}): Promise<Fault> {
    const table = `${FAMILY}cut${++this.faults}`;
    const ports = opts.ports?.length ? `{ ${opts.ports.join(', ')} }` : undefined;
    const out = ports ? `ip daddr ${b.ip} tcp dport ${ports} drop` : `ip daddr ${b.ip} drop`;
    const inp = ports ? `ip saddr ${b.ip} tcp sport ${ports} drop` : `ip saddr ${b.ip} drop`;
    await nft(
      a.ns,
      `table inet ${table} {\n chain out { type filter hook output priority 0; ${out}; }\n chain in { type filter hook input priority 0; ${inp}; }\n}\n`,
    );
    return this.fault(a, table, `${a.name} ✂ ${b.name}${ports ? ` ports ${ports}` : ''}`);
  }

  /**
   * What a crashed machine loses besides its processes: the TCP connections its kernel holds. A
   * SIGKILLed process's sockets outlive it (the kernel keeps retransmitting what was sent), so a command
   * it sent into a partition still arrives once the partition heals; a crashed host's would not. Aborts
   * `host`'s TCP connections to `peer` and resolves with how many are left (0 when done).
   */
  async dropConnections(host: Host, peer: Host): Promise<number> {
    await ip('netns', 'exec', host.ns, 'ss', '-K', '-t', 'dst', peer.ip);
    const left = (await ip('netns', 'exec', host.ns, 'ss', '-H', '-t', '-n', 'dst', peer.ip)).trim();
    return left ? left.split('\n').length : 0;
  }

  /**
   * Connections that `from` opens to `target` go to `via` instead (a relay in the root namespace). Only new
   * connections are redirected, so set it up before `from` connects.
   */
  async redirect(from: Host, target: { ip: string; port: number }, via: { ip: string; port: number }): Promise<Fault> {
    const table = `${FAMILY}nat${++this.faults}`;
    await nft(
      from.ns,
      `table ip ${table} {\n chain out { type nat hook output priority -100; ip daddr ${target.ip} tcp dport ${target.port} dnat to ${via.ip}:${via.port}; }\n}\n`,
    );
    return this.fault(from, table, `${from.name} → ${target.ip}:${target.port} via ${via.ip}:${via.port}`, 'ip');
  }

  private fault(host: Host, table: string, describe: string, family = 'inet'): Fault {
    let healed = false;
    return {
      describe,
      heal: async () => {
        if (healed || this.destroyed) return;
        healed = true;
        await exec('ip', ['netns', 'exec', host.ns, 'nft', 'delete', 'table', family, table]);
      },
    };
  }

  /** Kills what still runs in the namespaces, deletes them (their veths and rules go with them) and the bridge. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await exec('sh', ['-c', cleanupScript(this.prefix)]);
    if (this.watchdog && alive(this.watchdog)) process.kill(this.watchdog, 'SIGKILL');
  }

  /** What of this run is still on the machine (namespaces, links); empty after destroy(). */
  async leftovers(): Promise<string[]> {
    const ns = (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]);
    const links = (await ip('-o', 'link', 'show'))
      .split('\n')
      .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1] ?? '');
    return [...ns, ...links].filter((n) => n.startsWith(this.prefix));
  }
}
