import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@dream/common';
import { loadGatewayConfig } from '../src/config';
import { hintsOf } from '../src/cache/cache-hints';
import { planFetch, tagsIn } from '../src/cache/cache-policy';

const sdl = (name: string) => readFileSync(join(__dirname, '../../subgraphs', name, 'src/schema.graphql'), 'utf8');
const courses = hintsOf(sdl('courses'));
const users = hintsOf(sdl('users'));

describe('cache plans from @cacheControl hints', () => {
  it('a root course read is PUBLIC for the shortest maxAge it selects, tagged with the entities it returns', () => {
    const plan = planFetch(courses, 'query Q__courses__0($id:ID!){course(id:$id){id name owner{__typename id}}}');
    expect(plan).toMatchObject({ kind: 'root', policy: { maxAgeMs: 60_000, private: false, fixedTags: [] } });
    const tags = new Set<string>();
    if (plan?.kind === 'root') tagsIn({ course: { id: 'c1', name: 'n', owner: { __typename: 'User', id: 'u1' } } }, plan.policy.tags, tags);
    expect([...tags].sort()).toEqual(['Course:c1', 'User:u1']);
  });

  it('a root list is tagged as a collection', () => {
    const plan = planFetch(courses, '{courses(first:5){id name}}');
    expect(plan).toMatchObject({ kind: 'root', policy: { maxAgeMs: 30_000, fixedTags: ['list:Course'] } });
  });

  it('PRIVATE fields make the whole value PRIVATE; fields without hints where one is needed make it uncacheable', () => {
    const ent = planFetch(users, 'query($representations:[_Any!]!){_entities(representations:$representations){...on User{username email}}}');
    expect(ent?.kind === 'entities' && ent.byType.get('User')).toMatchObject({ private: true, maxAgeMs: 60_000 });
    // the signed-in user depends on the token: PRIVATE though User itself is PUBLIC
    expect(planFetch(users, '{me{id username}}')).toMatchObject({ kind: 'root', policy: { private: true } });
    expect(planFetch(users, '{user(id:"1"){id createdAt}}')).toMatchObject({ kind: 'root', policy: { private: false } });
    expect(planFetch(users, 'mutation{logout}')).toBeUndefined();
    expect(planFetch(courses, '{_service{sdl}}')).toBeUndefined();
  });

  it('entity fetches are planned per type, through fragments', () => {
    const q = 'query($representations:[_Any!]!){_entities(representations:$representations){...on User{...F}}} fragment F on User{ownedCourses(first:3){id name}}';
    const plan = planFetch(courses, q);
    expect(plan?.kind === 'entities' && plan.byType.get('User')).toMatchObject({ private: false, maxAgeMs: 60_000 });
  });
});

describe('entity cache settings', () => {
  it('are read and validated once, in the gateway config', () => {
    expect(loadGatewayConfig({}).ENTITY_CACHE).toBe(false);
    expect(() => loadGatewayConfig({ ENTITY_CACHE: 'true' })).toThrow(/ENTITY_CACHE: needs REDIS_URL/);
    expect(() => loadGatewayConfig({ REDIS_URL: 'redis://x:1', ENTITY_CACHE_STALE_SECONDS: '-1' })).toThrow(ConfigError);
    const c = loadGatewayConfig({ REDIS_URL: 'redis://x:1', ENTITY_CACHE: 'true', ENTITY_CACHE_MAX_AGE_SECONDS: '0' });
    expect([c.ENTITY_CACHE, c.ENTITY_CACHE_MAX_AGE_SECONDS, c.ENTITY_CACHE_PRIVATE, c.ENTITY_CACHE_STALE_SECONDS]).toEqual([true, 0, false, 300]);
  });
});
