import type { Redis } from 'ioredis';
import { EntityCache, type CacheMetrics, type Logger } from '@dream/common';
import type { UserRecord, UsersRepository } from './data/users-repository';

/** A user without the password hash: what is cached (`v1:user:<id>`) and what loaders return. */
export type UserProfile = Omit<UserRecord, 'passwordHash'>;

export const toProfile = ({ passwordHash: _hash, ...profile }: UserRecord): UserProfile => profile;

export function createUserCache(opts: { redis: Redis; enabled: boolean; ttlSeconds: number; metrics: CacheMetrics; logger?: Logger }) {
  return new EntityCache<UserProfile>({ ...opts, entity: 'user' });
}

/**
 * Profiles for a batch of ids: cache first (one MGET), then ONE database query for the misses, which are
 * then cached. Shared by the per-request dataloader and gRPC GetUsers.
 */
export async function loadProfiles(repo: UsersRepository, cache: EntityCache<UserProfile> | undefined, ids: readonly string[]): Promise<Map<string, UserProfile>> {
  const fetch = async (missing: string[]) => (await repo.findByIds(missing)).map(toProfile);
  if (!cache) return new Map((await fetch([...ids])).map((u) => [u.id, u]));
  return cache.loadMany(ids, fetch, (u) => u.id);
}
