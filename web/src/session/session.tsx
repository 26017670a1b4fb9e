import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Provider } from 'urql';
import { navigate } from 'wouter/use-browser-location';
import { createApiClient } from '../graphql/client';

export type Role = 'STUDENT' | 'OWNER';

export interface SessionUser {
  id: string;
  username: string;
  email?: string | null;
  roles: Role[];
}

interface Stored {
  jwt: string;
  user: SessionUser;
}

export interface Session {
  user: SessionUser | undefined;
  token: string | undefined;
  /** Why the person was signed out (expired or revoked token), shown on the log-in page. */
  notice: string | undefined;
  signIn(jwt: string, user: SessionUser): void;
  /** Forgets the session locally (the caller revokes the token first when it can). */
  signOut(notice?: string): void;
  clearNotice(): void;
  hasRole(role: Role): boolean;
}

const STORAGE_KEY = 'dream-and-study.session';
export const EXPIRED_NOTICE = 'Your session has ended (it expired or was signed out elsewhere). Please log in again.';

const SessionContext = createContext<Session | undefined>(undefined);

/** Seconds since the epoch at which a JWT expires, or undefined when it carries no readable exp. */
function expiryOf(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

function load(): { stored?: Stored; notice?: string } {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return {};
    const stored = JSON.parse(raw) as Stored;
    const exp = expiryOf(stored.jwt);
    if (exp !== undefined && exp * 1000 <= Date.now()) {
      localStorage.removeItem(STORAGE_KEY);
      return { notice: EXPIRED_NOTICE };
    }
    return { stored };
  } catch {
    localStorage.removeItem(STORAGE_KEY);
    return {};
  }
}

/**
 * The signed-in person: the token and profile live in localStorage (so a reload keeps the session),
 * the token goes in the Authorization header and in graphql-ws connection params. A token the API
 * refuses, or one reaching its expiry, ends the session with a notice for the log-in page.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const initial = useRef(load());
  const [stored, setStored] = useState<Stored | undefined>(initial.current.stored);
  const [notice, setNotice] = useState<string | undefined>(initial.current.notice);

  const signOut = useCallback((why?: string) => {
    localStorage.removeItem(STORAGE_KEY);
    setStored(undefined);
    setNotice(why);
    // a refused token: back to log in (and here again afterwards), with the notice shown there
    if (why && location.pathname !== '/login') navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  }, []);

  const signIn = useCallback((jwt: string, user: SessionUser) => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ jwt, user }));
    setStored({ jwt, user });
    setNotice(undefined);
  }, []);

  // another tab logged in or out: follow it
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === STORAGE_KEY) setStored(load().stored);
    };
    addEventListener('storage', onStorage);
    return () => removeEventListener('storage', onStorage);
  }, []);

  // end the session when the token expires, not at the next failing request
  useEffect(() => {
    const exp = stored && expiryOf(stored.jwt);
    if (exp === undefined) return;
    const timer = setTimeout(() => signOut(EXPIRED_NOTICE), Math.min(Math.max(exp * 1000 - Date.now(), 0), 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [stored, signOut]);

  const token = stored?.jwt;
  const api = useMemo(() => createApiClient({ token, onUnauthenticated: () => signOut(EXPIRED_NOTICE) }), [token, signOut]);
  useEffect(() => () => api.dispose(), [api]);

  const session = useMemo<Session>(
    () => ({
      user: stored?.user,
      token,
      notice,
      signIn,
      signOut,
      clearNotice: () => setNotice(undefined),
      hasRole: (role) => !!stored?.user.roles.includes(role),
    }),
    [stored, token, notice, signIn, signOut],
  );

  return (
    <SessionContext.Provider value={session}>
      <Provider value={api.client}>{children}</Provider>
    </SessionContext.Provider>
  );
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
