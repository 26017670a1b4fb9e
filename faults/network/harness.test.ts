import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { startDelayRelay } from './delay-relay';
import { TestNet, netnsSupported } from './netns';

const support = netnsSupported();
const maybe = support.ok ? describe : describe.skip;
if (!support.ok) console.warn(`network fault suite skipped: ${support.why}`);

/** Connects from inside `ns` (a real client process there) and reports what happened within `ms`. */
function probe(net: TestNet, ns: string, host: string, port: number, ms: number): Promise<string> {
  const code = `const s=require('net').connect(${port},'${host}');s.on('data',d=>{console.log('data:'+d);process.exit(0)});s.on('error',e=>{console.log('error:'+e.code);process.exit(0)});setTimeout(()=>{console.log('silence');process.exit(0)},${ms})`;
  const { command, args } = net.wrap(net.hosts.find((h) => h.ns === ns)!, process.execPath, ['-e', code]);
  return new Promise((res, rej) => {
    const p = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.on('error', rej);
    p.on('exit', () => res(out.trim()));
  });
}

maybe('network test harness (namespaces, nftables, delay relay)', () => {
  let net: TestNet;
  afterAll(() => net?.destroy());

  it('builds hosts that reach each other, cuts them with DROP (silence, not refusal), heals, and removes everything', async () => {
    net = await TestNet.create();
    const a = await net.addHost('a');
    const b = await net.addHost('b');
    // a server on b, reached from the root namespace through the bridge
    const server = spawn(...(() => {
      const w = net.wrap(b, process.execPath, ['-e', `require('net').createServer(s=>s.end('hello')).listen(7000,'${b.ip}',()=>console.log('up'))`]);
      return [w.command, w.args] as const;
    })(), { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => server.stdout!.once('data', r));
    try {
      expect(await probe(net, a.ns, b.ip, 7000, 3000)).toBe('data:hello');
      const cut = await net.cut(a, b);
      // dropped packets: the connect neither succeeds nor is refused
      expect(await probe(net, a.ns, b.ip, 7000, 1500)).toBe('silence');
      await cut.heal();
      expect(await probe(net, a.ns, b.ip, 7000, 3000)).toBe('data:hello');
      // a cut limited to other ports leaves this one alone
      const portCut = await net.cut(a, b, { ports: [7001] });
      expect(await probe(net, a.ns, b.ip, 7000, 3000)).toBe('data:hello');
      await portCut.heal();
    } finally {
      server.kill('SIGKILL');
    }
    expect((await net.leftovers()).length).toBeGreaterThan(0);
    await net.destroy();
    expect(await net.leftovers()).toEqual([]);
  });

  it('the delay relay adds its delay to each request, keeps order, and passes straight through at 0', async () => {
    const echo = createServer((s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const relay = await startDelayRelay('127.0.0.1', { host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
    try {
      const roundTrip = (msg: string) =>
        new Promise<{ ms: number; got: string }>((res) => {
          const started = Date.now();
          const s = connect(relay.port, '127.0.0.1', () => s.write(msg));
          let got = '';
          s.on('data', (d) => {
            got += d;
            if (got.length >= msg.length) (s.destroy(), res({ ms: Date.now() - started, got }));
          });
        });
      relay.setDelay(300);
      const slow = await roundTrip('abc');
      expect(slow.got).toBe('abc');
      expect(slow.ms).toBeGreaterThanOrEqual(295);
      relay.setDelay(0);
      const fast = await roundTrip('xyz');
      expect(fast.got).toBe('xyz');
      expect(fast.ms).toBeLessThan(slow.ms);
    } finally {
      await relay.stop();
      echo.close();
    }
  });

  it('a run killed with SIGKILL leaves nothing: its watchdog (or the next run\'s sweep) removes namespaces and links', async () => {
    const code = `const {TestNet}=require('${__dirname}/netns.ts');TestNet.create().then(async n=>{await n.addHost('x');console.log(n.prefix)})`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const prefix = await new Promise<string>((r) => child.stdout!.on('data', (d) => r(String(d).trim())));
    const names = async () => {
      const { execFileSync } = await import('node:child_process');
      return (execFileSync('ip', ['netns', 'list']).toString() + execFileSync('ip', ['-o', 'link']).toString()).includes(prefix);
    };
    expect(await names()).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const deadline = Date.now() + 10_000;
    while ((await names()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await names()).toBe(false);
  });
});
