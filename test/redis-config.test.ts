import { ConfigError, redisUrlFromEnv } from '@dream/common';
import { loadCoursesConfig } from '../subgraphs/courses/src/config';
import { loadDiscoveryConfig } from '../discovery/src/config';
import { loadGatewayConfig } from '../gateway/src/config';
import { loadUsersConfig } from '../subgraphs/users/src/config';

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('no ConfigError');
};

describe('Redis location from the environment (REDIS_URL or Sentinel)', () => {
  it('builds one sentinel URL from REDIS_SENTINELS + REDIS_MASTER_NAME (+ REDIS_PASSWORD)', () => {
    expect(redisUrlFromEnv('svc', { REDIS_SENTINELS: 's1:26379, s2:26380', REDIS_MASTER_NAME: 'dream' })).toBe('redis+sentinel://s1:26379,s2:26380/dream');
    expect(redisUrlFromEnv('svc', { REDIS_SENTINELS: '10.0.0.1:26379', REDIS_MASTER_NAME: 'm', REDIS_PASSWORD: 'p@ss' })).toBe(
      'redis+sentinel://:p%40ss@10.0.0.1:26379/m',
    );
    expect(redisUrlFromEnv('svc', {}, 'redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redisUrlFromEnv('svc', {})).toBeUndefined();
  });

  it('refuses ambiguous or malformed settings, naming the variable', () => {
    expect(problems(() => redisUrlFromEnv('svc', { REDIS_SENTINELS: 's1:1', REDIS_URL: 'redis://x:1' }))).toEqual([
      'REDIS_URL: set either REDIS_URL or REDIS_SENTINELS, not both',
      'REDIS_MASTER_NAME: required with REDIS_SENTINELS',
    ]);
    expect(problems(() => redisUrlFromEnv('svc', { REDIS_SENTINELS: 's1,s2:99999', REDIS_MASTER_NAME: 'm' }))).toEqual([
      'REDIS_SENTINELS: "s1" is not host:port',
      'REDIS_SENTINELS: "s2:99999" is not host:port',
    ]);
    expect(problems(() => redisUrlFromEnv('svc', { REDIS_MASTER_NAME: 'm' }))).toEqual(['REDIS_MASTER_NAME: only used with REDIS_SENTINELS']);
    expect(problems(() => redisUrlFromEnv('svc', { REDIS_URL: 'localhost:6379' }))[0]).toMatch(/^REDIS_URL:/);
  });

  it('every service reads it the same way', () => {
    const env = { REDIS_SENTINELS: 'a:26379,b:26379,c:26379', REDIS_MASTER_NAME: 'dream' };
    const want = 'redis+sentinel://a:26379,b:26379,c:26379/dream';
    expect(loadUsersConfig(env).REDIS_URL).toBe(want);
    expect(loadCoursesConfig(env).REDIS_URL).toBe(want);
    expect(loadGatewayConfig(env).REDIS_URL).toBe(want);
    expect(loadDiscoveryConfig(env).REDIS_URL).toBe(want);
    expect(loadGatewayConfig({}).REDIS_URL).toBeUndefined();
    expect(() => loadDiscoveryConfig({ ...env, REDIS_URL: 'redis://x:1' })).toThrow(/not both/);
  });
});
