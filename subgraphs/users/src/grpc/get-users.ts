import { authenticateCall, type GetUsersRequest, type GetUsersResponse } from '@dream/common/grpc';
import { badInput, type Authenticator, type EntityCache } from '@dream/common';
import { MAX_IDS_PER_QUERY, type UsersRepository } from '../data/users-repository';
import { loadProfiles, type UserProfile } from '../user-cache';

/**
 * users.v1.UserService/GetUsers: public profiles (no email) for a batch of ids, from the cache and at
 * most ONE database query. Requires a valid token in the `authorization` metadata (any signed-in user:
 * callers such as courses forward their caller's token), so the port is not an anonymous user directory
 * even if it is reachable from outside the private network. Unknown ids are left out.
 */
export async function getUsers(
  deps: { repo: UsersRepository; cache?: EntityCache<UserProfile>; authenticator: Authenticator; serviceSecret?: string },
  call: { metadata: Parameters<typeof authenticateCall>[0]['metadata']; request: GetUsersRequest },
): Promise<GetUsersResponse> {
  await authenticateCall(call, deps.authenticator, deps.serviceSecret);
  const ids = [...new Set(call.request.ids)];
  if (ids.length > MAX_IDS_PER_QUERY) throw badInput(`At most ${MAX_IDS_PER_QUERY} ids per call.`);
  if (ids.some((id) => id.length === 0 || id.length > 128)) throw badInput('ids must be 1-128 characters each.');
  const found = await loadProfiles(deps.repo, deps.cache, ids);
  return {
    users: ids.flatMap((id) => {
      const u = found.get(id);
      return u ? [{ id: u.id, username: u.username, roles: u.roles, createdAt: u.createdAt }] : [];
    }),
  };
}
