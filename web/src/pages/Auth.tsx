import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { Link, Redirect, useLocation, useSearch } from 'wouter';
import { ErrorMessage, Notice } from '../components/Status';
import { LOG_IN, SIGN_UP } from '../graphql/documents';
import { useSession, type Role, type SessionUser } from '../session/session';

interface AuthPayload {
  jwt: string;
  user: SessionUser;
}

/** Where to go after signing in: a same-site path from ?next=, else the catalogue. */
function useNext(): string {
  const next = new URLSearchParams(useSearch()).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LogInPage() {
  const session = useSession();
  const next = useNext();
  const [, navigate] = useLocation();
  const [result, logIn] = useMutation<{ login: AuthPayload }>(LOG_IN);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  if (session.user) return <Redirect to={next} />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await logIn({ username: username.trim(), password });
    if (r.data) {
      session.signIn(r.data.login.jwt, r.data.login.user);
      navigate(next);
    }
  };

  return (
    <section className="narrow">
      <h1>Log in</h1>
      {session.notice ? <Notice>{session.notice}</Notice> : null}
      <form onSubmit={submit} className="form">
        <label>
          Username
          <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <ErrorMessage error={result.error} />
        <button type="submit" disabled={result.fetching}>
          {result.fetching ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p>
        New here? <Link href="/signup">Create an account</Link>
      </p>
    </section>
  );
}

export function SignUpPage() {
  const session = useSession();
  const next = useNext();
  const [, navigate] = useLocation();
  const [result, signUp] = useMutation<{ signup: AuthPayload }>(SIGN_UP);
  const [form, setForm] = useState({ username: '', email: '', password: '' });
  const [roles, setRoles] = useState<Record<Role, boolean>>({ STUDENT: true, OWNER: false });
  const [problem, setProblem] = useState<string>();
  if (session.user) return <Redirect to={next} />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const chosen = (Object.keys(roles) as Role[]).filter((r) => roles[r]);
    if (chosen.length === 0) {
      setProblem('Choose at least one: learn (student) or teach (owner).');
      return;
    }
    setProblem(undefined);
    const r = await signUp({ input: { username: form.username.trim(), email: form.email.trim(), password: form.password, roles: chosen } });
    if (r.data) {
      session.signIn(r.data.signup.jwt, r.data.signup.user);
      navigate(chosen.includes('OWNER') && !chosen.includes('STUDENT') ? '/studio' : next);
    }
  };

  const field = (name: keyof typeof form) => ({
    name,
    value: form[name],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setForm((f) => ({ ...f, [name]: e.target.value })),
  });

  return (
    <section className="narrow">
      <h1>Sign up</h1>
      <form onSubmit={submit} className="form">
        <label>
          Username
          <input {...field('username')} autoComplete="username" required minLength={3} maxLength={32} pattern="[A-Za-z0-9_.\-]+" aria-describedby="username-help" />
        </label>
        <small id="username-help">3–32 letters, digits, “_”, “.” or “-”.</small>
        <label>
          Email
          <input {...field('email')} type="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input {...field('password')} type="password" autoComplete="new-password" required minLength={8} aria-describedby="password-help" />
        </label>
        <small id="password-help">At least 8 characters.</small>
        <fieldset>
          <legend>I want to</legend>
          <label className="check">
            <input type="checkbox" checked={roles.STUDENT} onChange={(e) => setRoles((r) => ({ ...r, STUDENT: e.target.checked }))} />
            learn (student)
          </label>
          <label className="check">
            <input type="checkbox" checked={roles.OWNER} onChange={(e) => setRoles((r) => ({ ...r, OWNER: e.target.checked }))} />
            teach (course owner)
          </label>
        </fieldset>
        <ErrorMessage error={problem ?? result.error} />
        <button type="submit" disabled={result.fetching}>
          {result.fetching ? 'Creating your account…' : 'Sign up'}
        </button>
      </form>
      <p>
        Already have an account? <Link href="/login">Log in</Link>
      </p>
    </section>
  );
}
