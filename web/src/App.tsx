import { lazy, Suspense, type ReactNode } from 'react';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';
import { Layout } from './components/Layout';
import { LogInPage, SignUpPage } from './pages/Auth';
import { CataloguePage } from './pages/Catalogue';
import { CoursePage } from './pages/CoursePage';
import { MyLearningPage } from './pages/MyLearning';
import { CreateCoursePage, EditCoursePage, StudioPage } from './pages/Studio';
import { LoadBoundary } from './components/LoadBoundary';
import { Loading } from './components/Status';
import { useSession, type Role } from './session/session';

// its own chunk: hls.js (about 150 KB gzipped) is downloaded only by people who open a lesson
const PlayerPage = lazy(() => import('./media/PlayerPage'));

/** A page for signed-in people (with a role): others go to log in and come back. */
function Guard({ role, children }: { role?: Role; children: ReactNode }) {
  const session = useSession();
  const [location] = useLocation();
  if (!session.user) return <Redirect to={`/login?next=${encodeURIComponent(location)}`} />;
  if (role && !session.hasRole(role)) {
    return (
      <section>
        <h1>Not for this account</h1>
        <p role="alert" className="error">
          {role === 'OWNER' ? 'The Studio is for course owners: your account cannot publish courses.' : 'This page is for students: your account cannot enroll in courses.'}
        </p>
        <Link href="/">Back to the courses</Link>
      </section>
    );
  }
  return <>{children}</>;
}

export function App() {
  return (
    <Layout>
      <Switch>
        <Route path="/">
          <CataloguePage />
        </Route>
        <Route path="/login">
          <LogInPage />
        </Route>
        <Route path="/signup">
          <SignUpPage />
        </Route>
        <Route path="/course/:id/lessons/:lessonId">
          {(p) => (
            <Guard>
              <LoadBoundary>
                <Suspense fallback={<Loading what="the player" />}>
                  <PlayerPage key={p.lessonId} courseId={p.id} lessonId={p.lessonId} />
                </Suspense>
              </LoadBoundary>
            </Guard>
          )}
        </Route>
        <Route path="/course/:id">{(p) => <CoursePage key={p.id} id={p.id} />}</Route>
        <Route path="/learning">
          <Guard role="STUDENT">
            <MyLearningPage />
          </Guard>
        </Route>
        <Route path="/studio">
          <Guard role="OWNER">
            <StudioPage />
          </Guard>
        </Route>
        <Route path="/studio/new">
          <Guard role="OWNER">
            <CreateCoursePage />
          </Guard>
        </Route>
        <Route path="/studio/:id">
          {(p) => (
            <Guard role="OWNER">
              <EditCoursePage key={p.id} id={p.id} />
            </Guard>
          )}
        </Route>
        <Route>
          <section>
            <h1>Page not found</h1>
            <p>There is no page at this address.</p>
            <Link href="/">Back to the courses</Link>
          </section>
        </Route>
      </Switch>
    </Layout>
  );
}
