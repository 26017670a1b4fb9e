import { rendezvousPick } from '../src/rendezvous';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `instance-${i}`);
const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
const assign = (instances: string[]) => new Map(keys.map((k) => [k, rendezvousPick(k, instances, (x) => x)!]));

describe('rendezvousPick', () => {
  it('is deterministic and does not depend on the order of the instances', () => {
    const list = ids(5);
    for (const k of keys.slice(0, 50)) expect(rendezvousPick(k, [...list].reverse(), (x) => x)).toBe(rendezvousPick(k, list, (x) => x));
    expect(rendezvousPick('k', [], (x) => x)).toBeUndefined();
  });

  it('spreads keys over the instances', () => {
    const counts = new Map<string, number>();
    for (const owner of assign(ids(4)).values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const n of counts.values()) expect(n).toBeGreaterThan(keys.length / 4 / 2);
  });

  it('moves only the keys of a removed instance, and only keys to an added one', () => {
    const before = assign(ids(4));
    const removed = assign(ids(4).filter((id) => id !== 'instance-2'));
    for (const [k, owner] of before) if (owner !== 'instance-2') expect(removed.get(k)).toBe(owner);
    const added = assign(ids(5));
    for (const [k, owner] of before) expect([owner, 'instance-4']).toContain(added.get(k));
  });
});
