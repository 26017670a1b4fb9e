import { useState, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Link, useLocation } from 'wouter';
import { LOG_OUT } from '../graphql/documents';
import { useSession } from '../session/session';
import { NotificationBell } from './NotificationBell';

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const [location] = useLocation();
  const current = location === href || (href !== '/' && location.startsWith(`${href}/`));
  return (
    <Link href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </Link>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const [, navigate] = useLocation();
  const [, logOut] = useMutation(LOG_OUT);
  const [leaving, setLeaving] = useState(false);
  const user = session.user;

  const onLogOut = async () => {
    setLeaving(true);
    // revoke the token on the server; the session ends here whatever the answer (an expired token
    // cannot be revoked and needs no revoking)
    await logOut({});
    setLeaving(false);
    session.signOut();
    navigate('/login');
  };

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          Dream and Study
        </Link>
        <nav aria-label="Main">
          <NavLink href="/">Courses</NavLink>
          {user && session.hasRole('STUDENT') ? <NavLink href="/learning">My learning</NavLink> : null}
          {user && session.hasRole('OWNER') ? <NavLink href="/studio">Studio</NavLink> : null}
        </nav>
        <div className="account">
          {user ? (
            <>
              <NotificationBell key={user.id} user={user} />
              <span className="who" title={user.email ?? undefined}>
                {user.username}
              </span>
              <button type="button" className="secondary" onClick={onLogOut} disabled={leaving}>
                Log out
              </button>
            </>
          ) : (
            <>
              <Link href="/login">Log in</Link>
              <Link href="/signup" className="button">
                Sign up
              </Link>
            </>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer className="foot">Dream and Study: learn from the people who know the subject.</footer>
    </>
  );
}
