import { Disposables } from '../src/testing';

describe('Disposables', () => {
  it('disposes newest first, goes on past a failing teardown, and logs which part failed', async () => {
    const d = new Disposables();
    const order: string[] = [];
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      d.defer(() => order.push('first'), 'first');
      d.push({ name: 'broken' }, () => {
        throw new Error('port already closed');
      }, 'broken server');
      d.defer(async () => order.push('last'), 'last');
      expect(await d.disposeAll()).toEqual(['broken server']);
    } finally {
      spy.mockRestore();
    }
    expect(order).toEqual(['last', 'first']);
    expect(written.join('')).toMatch(/teardown of broken server failed: Error: port already closed/);
    // disposed once: a second call has nothing left to do
    expect(await d.disposeAll()).toEqual([]);
  });
});
