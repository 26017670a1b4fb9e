import { useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { Link } from 'wouter';
import { ErrorMessage, Loading, Notice, formatPrice } from '../components/Status';
import { BUY_COURSE, COURSE, COURSE_DELETED, COURSE_UPDATED, JOIN_LOBBY, MY_COURSES } from '../graphql/documents';
import { LessonList } from '../media/LessonList';
import { useSession } from '../session/session';

interface CourseDetail {
  id: string;
  name: string;
  info: string;
  category: string;
  price: number;
  createdAt: string;
  updatedAt: string;
  owner: { id: string; username: string };
}

export interface MyCoursesData {
  me: { id: string; enrolledCourses: Array<{ id: string }>; ownedCourses: Array<{ id: string }> } | null;
}

export function CoursePage({ id }: { id: string }) {
  const session = useSession();
  const [result, refetchCourse] = useQuery<{ course: CourseDetail | null }>({ query: COURSE, variables: { id } });
  const [mine, refetchMine] = useQuery<MyCoursesData>({ query: MY_COURSES, pause: !session.user });
  const [bought, buy] = useMutation<{ buyCourse: { message: string; alreadyOwned: boolean } }>(BUY_COURSE);
  const [joined, join] = useMutation<{ joinLobby: { message: string; course: { id: string; name: string } } }>(JOIN_LOBBY);
  // one key per visit: a double click or a retry after a lost answer never buys twice
  const idempotencyKey = useMemo(() => crypto.randomUUID(), [id]);
  const [deleted, setDeleted] = useState(false);

  // an edit by the owner: fetch the page's course again (the document cache does not merge subscription data)
  const [updated] = useSubscription<{ courseUpdated: { id: string } }>({ query: COURSE_UPDATED, variables: { id } });
  useEffect(() => {
    if (updated.data) refetchCourse({ requestPolicy: 'network-only' });
  }, [updated.data, refetchCourse]);
  const [removed] = useSubscription<{ courseDeleted: { id: string } }>({ query: COURSE_DELETED });
  useEffect(() => {
    if (removed.data?.courseDeleted.id === id) setDeleted(true);
  }, [removed.data, id]);

  const course = result.data?.course;
  if (result.fetching && !result.data) return <Loading what="the course" />;
  if (result.error) return <ErrorMessage error={result.error} action="Could not load this course" />;
  if (!course || deleted) {
    return (
      <section>
        <h1>Course not found</h1>
        <p>{deleted ? 'This course was just deleted by its owner.' : 'This course does not exist or was deleted.'}</p>
        <Link href="/">Back to the courses</Link>
      </section>
    );
  }

  const me = mine.data?.me;
  const isOwner = session.user?.id === course.owner.id;
  const owned = !!me?.enrolledCourses.some((c) => c.id === course.id);
  const onBuy = async () => {
    const r = await buy({ courseId: course.id, idempotencyKey });
    if (r.data) refetchMine({ requestPolicy: 'network-only' });
  };
  const onJoin = async () => {
    const r = await join({ category: course.category });
    if (r.data) refetchMine({ requestPolicy: 'network-only' });
  };

  return (
    <article className="course">
      <p className="crumbs">
        <Link href="/">Courses</Link> / <span>{course.category}</span>
      </p>
      <h1>{course.name}</h1>
      <p className="meta">
        <span className="tag">{course.category}</span>
        <span className="price">{formatPrice(course.price)}</span>
        <span>by {course.owner.username}</span>
      </p>
      <div className="info">
        {course.info.split(/\n{2,}/).map((para, i) => (
          <p key={i}>{para}</p>
        ))}
      </div>

      <section className="actions" aria-label="Your access">
        <h2>Your access</h2>
        {!session.user ? (
          <p>
            <Link href={`/login?next=/course/${course.id}`}>Log in</Link> or <Link href={`/signup?next=/course/${course.id}`}>sign up</Link> to buy this course.
          </p>
        ) : isOwner ? (
          <p>
            This is your course. <Link href={`/studio/${course.id}`}>Edit it in the Studio</Link>.
          </p>
        ) : mine.fetching && !me ? (
          <Loading what="what you own" />
        ) : owned ? (
          <Notice>You own this course. It is in <Link href="/learning">My learning</Link>.</Notice>
        ) : (
          <>
            <button type="button" onClick={onBuy} disabled={bought.fetching}>
              Buy
            </button>{' '}
            <span className="price">{formatPrice(course.price)}</span>
          </>
        )}
        <ErrorMessage error={mine.error} action="Could not check what you own" />
        <ErrorMessage error={bought.error} action="Could not buy the course" />
        {bought.data && !owned ? <Notice>{bought.data.buyCourse.alreadyOwned ? 'You already owned this course.' : 'Bought: the course is now in My learning.'}</Notice> : null}
      </section>

      {session.user && !isOwner ? (
        <section className="lobby" aria-labelledby="lobby-h">
          <h2 id="lobby-h">The {course.category} lobby</h2>
          <p>Join the lobby to be enrolled in the newest {course.category} course you do not attend yet, and to hear about new ones.</p>
          <button type="button" className="secondary" onClick={onJoin} disabled={joined.fetching}>
            Join
          </button>
          <ErrorMessage error={joined.error} action="Could not join the lobby" />
          {joined.data ? (
            <Notice>
              {joined.data.joinLobby.message} <Link href={`/course/${joined.data.joinLobby.course.id}`}>{joined.data.joinLobby.course.name}</Link>
            </Notice>
          ) : null}
        </section>
      ) : null}
      <LessonList courseId={course.id} isOwner={isOwner} canWatch={isOwner || owned} />
    </article>
  );
}
