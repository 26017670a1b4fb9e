import { Routes, type RouteHandler } from '../src/http/router';

describe('Routes', () => {
  const handler = (name: string): RouteHandler => Object.assign(() => undefined, { routeName: name });

  it('asks mounted run-time sources only for what no fixed route takes, in the order mounted', () => {
    const routes = new Routes();
    const fixed = handler('fixed');
    routes.route('GET', '/media/health', fixed, 'fixed');
    const media = handler('media');
    const other = handler('other');
    routes.mount({ match: (_m, path) => (path.startsWith('/media/') ? { label: '/media/', handler: media } : undefined) });
    routes.mount({ match: () => ({ label: 'catch-all', handler: other }) });
    routes.route('*', /^\/late\//, handler('late'), '/late/');

    expect(routes.match('GET', '/media/health')?.label).toBe('fixed');
    expect(routes.match('POST', '/media/health')?.handler).toBe(media);
    expect(routes.match('PATCH', '/media/uploads/x')?.label).toBe('/media/');
    // a fixed route added after the mounts still comes first
    expect(routes.match('GET', '/late/x')?.label).toBe('/late/');
    expect(routes.match('GET', '/nothing')?.label).toBe('catch-all');
  });

  it('answers nothing when neither fixed routes nor sources take the path', () => {
    const routes = new Routes();
    routes.route('GET', '/a', handler('a'));
    routes.mount({ match: () => undefined });
    expect(routes.match('GET', '/b')).toBeUndefined();
    expect(routes.match('POST', '/a')).toBeUndefined();
  });
});
