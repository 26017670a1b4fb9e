import { useCallback, useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { ErrorMessage, Loading, Notice } from '../components/Status';
import { COURSE_LESSONS, LESSON_PLAYBACK } from '../graphql/documents';
import { useSession } from '../session/session';
import { attachSource } from './attach-source';
import { lessonPath, type CourseLessonsData } from './LessonList';
import { CourseProgressBar } from './ProgressBar';
import { formatDuration, type Lesson, type LessonProgress } from './types';
import { useProgressSaver } from './use-progress-saver';
import { resumeAt } from './watch-progress';

interface PlaybackData {
  lesson:
    | (Lesson & {
        course: { id: string };
        playback: { hlsUrl: string; mp4Url: string; posterUrl: string | null; expiresAt: string } | null;
        myProgress: LessonProgress | null;
      })
    | null;
}

/** The player page (its own chunk, with hls.js): one lesson, the course's lessons beside it, the next one. */
export default function PlayerPage({ courseId, lessonId }: { courseId: string; lessonId: string }) {
  const [result] = useQuery<PlaybackData>({ query: LESSON_PLAYBACK, variables: { id: lessonId }, requestPolicy: 'network-only' });
  const [lessons, refetchLessons] = useQuery<CourseLessonsData>({ query: COURSE_LESSONS, variables: { id: courseId }, requestPolicy: 'cache-and-network' });
  const lesson = result.data?.lesson;

  if (result.fetching && !result.data) return <Loading what="the lesson" />;
  if (result.error) return <ErrorMessage error={result.error} action="Could not load the lesson" />;
  if (!lesson || lesson.course.id !== courseId) {
    return (
      <section>
        <h1>Lesson not found</h1>
        <p>This lesson does not exist, is not published yet, or was deleted.</p>
        <Link href={`/course/${courseId}`}>Back to the course</Link>
      </section>
    );
  }
  const all = lessons.data?.course?.lessons ?? [];
  const next = all.filter((l) => l.status === 'READY' && l.position > lesson.position).sort((a, b) => a.position - b.position)[0];
  const onCompleted = () => refetchLessons({ requestPolicy: 'network-only' });

  return (
    <article className="player">
      <p className="crumbs">
        <Link href={`/course/${courseId}`}>Back to the course</Link>
      </p>
      <h1>{lesson.title}</h1>
      {lesson.playback ? (
        <LessonVideo key={lesson.id} lesson={lesson} playback={lesson.playback} onCompleted={onCompleted} />
      ) : (
        <p role="alert" className="error">
          You cannot watch this lesson: buy the course to watch it.
        </p>
      )}
      <CourseProgressBar progress={lessons.data?.course?.myProgress} />
      <ErrorMessage error={lessons.error} action="Could not load the course’s lessons" />
      {next ? (
        <p>
          <Link href={lessonPath(courseId, next.id)}>Next lesson: {next.title}</Link>
        </p>
      ) : null}
      <ol className="lesson-list" aria-label="Lessons of this course">
        {all
          .filter((l) => l.status === 'READY')
          .map((l) => (
            <li key={l.id} className={l.myProgress?.completed ? 'completed' : undefined} aria-current={l.id === lesson.id ? 'page' : undefined}>
              <Link href={lessonPath(courseId, l.id)}>{l.title}</Link>
              <span className="duration">{formatDuration(l.durationSeconds)}</span>
              {l.myProgress?.completed ? <span className="done">✓ Completed</span> : null}
            </li>
          ))}
      </ol>
    </article>
  );
}

function LessonVideo({ lesson, playback, onCompleted }: { lesson: NonNullable<PlaybackData['lesson']>; playback: { hlsUrl: string; mp4Url: string; posterUrl: string | null }; onCompleted(): void }) {
  const { token } = useSession();
  const [video, setVideo] = useState<HTMLVideoElement | null>(null);
  const [fatal, setFatal] = useState<string>();
  const [completed, setCompleted] = useState(!!lesson.myProgress?.completed);
  const onSaved = useCallback(
    (p: LessonProgress) => {
      if (p.completed && !completed) {
        setCompleted(true);
        onCompleted();
      }
    },
    [completed, onCompleted],
  );
  // declared before the source effect: on leaving, the last position is read before the source goes
  const saveError = useProgressSaver(video, { id: lesson.id, durationSeconds: lesson.durationSeconds, previousWatched: lesson.myProgress?.watchedSeconds ?? 0 }, token, onSaved);

  const { hlsUrl, mp4Url } = playback;
  const startAt = resumeAt(lesson.myProgress?.positionSeconds, lesson.durationSeconds);
  useEffect(() => {
    if (!video) return;
    let detach: (() => void) | undefined;
    let cancelled = false;
    const seek = () => {
      if (startAt > 0) video.currentTime = startAt;
    };
    video.addEventListener('loadedmetadata', seek, { once: true });
    attachSource(video, { hlsUrl, mp4Url }, setFatal).then(
      (d) => (cancelled ? d() : (detach = d)),
      () => setFatal('The video player could not be loaded. Reload the page to try again.'),
    );
    return () => {
      cancelled = true;
      video.removeEventListener('loadedmetadata', seek);
      detach?.();
    };
  }, [video, hlsUrl, mp4Url, startAt]);

  return (
    <div className="video">
      <video ref={setVideo} controls playsInline preload="metadata" poster={playback.posterUrl ?? undefined} aria-label={`Video: ${lesson.title}`} />
      {startAt > 0 ? <p className="hint">Resuming at {formatDuration(startAt)}.</p> : null}
      {completed ? <Notice>✓ Lesson completed</Notice> : null}
      <ErrorMessage error={fatal} />
      <ErrorMessage error={saveError} action="Could not save your progress" />
    </div>
  );
}
