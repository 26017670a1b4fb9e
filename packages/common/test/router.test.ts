import { Router, type RouteHandler } from '../src/http-service';

describe('Router', () => {
  const handler = (name: string): RouteHandler => Object.assign(() => undefined, { routeName: name });

  it('asks mounted run-time sources only for what no fixed route takes, in the order mounted', () => {
    const routes = new Router();
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
    const routes = new Router();
    routes.route('GET', '/a', handler('a'));
    routes.mount({ match: () => undefined });
    expect(routes.match('GET', '/b')).toBeUndefined();
    expect(routes.match('POST', '/a')).toBeUndefined();
  });

  it('takes an exact path before prefix and RegExp routes, and a method before "*"', () => {
    const routes = new Router();
    routes.addPrefix('GET', '/items/', handler('prefix'));
    routes.route('GET', /^\/items\/\d+$/, handler('pattern'), '/items/:id');
    routes.route('*', '/items/all', handler('any'));
    routes.add('get', '/items/all', handler('get'));
    expect(routes.match('GET', '/items/all')?.label).toBe('/items/all');
    expect((routes.match('GET', '/items/all')?.handler as unknown as { routeName: string }).routeName).toBe('get');
    expect((routes.match('PUT', '/items/all')?.handler as unknown as { routeName: string }).routeName).toBe('any');
    expect(routes.match('GET', '/items/7')?.label).toBe('/items/*');
    expect(routes.match('POST', '/items/7')).toBeUndefined();
  });
});
