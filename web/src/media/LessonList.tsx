import { useQuery } from 'urql';
import { Link } from 'wouter';
import { Empty, Loading } from '../components/Status';
import { COURSE_LESSONS } from '../graphql/documents';
import { CourseProgressBar } from './ProgressBar';
import { describeStatus, formatDuration, type CourseProgress, type Lesson } from './types';
import { MediaError } from './MediaError';

export interface CourseLessonsData {
  course: {
    id: string;
    lessons: Array<Lesson & { myProgress: { positionSeconds: number; completed: boolean } | null }>;
    myProgress: CourseProgress | null;
  } | null;
}

export const lessonPath = (courseId: string, lessonId: string) => `/course/${courseId}/lessons/${lessonId}`;

/**
 * The course page's lessons: durations for everybody, status for the owner (who sees every lesson),
 * links to the player and completion marks for the people who can watch (owner and enrolled students).
 */
export function LessonList({ courseId, isOwner, canWatch }: { courseId: string; isOwner: boolean; canWatch: boolean }) {
  // always asked again: lessons become READY and progress changes while the person is elsewhere
  const [result] = useQuery<CourseLessonsData>({ query: COURSE_LESSONS, variables: { id: courseId }, requestPolicy: 'cache-and-network' });
  const course = result.data?.course;
  return (
    <section className="lessons" aria-labelledby="lessons-h">
      <h2 id="lessons-h">Lessons</h2>
      <MediaError error={result.error} action="Could not load the lessons" />
      {result.fetching && !course ? <Loading what="the lessons" /> : null}
      {canWatch && !isOwner ? <CourseProgressBar progress={course?.myProgress} /> : null}
      {course && course.lessons.length === 0 ? (
        <Empty>
          <p>{isOwner ? 'This course has no lesson yet: add them in the Studio.' : 'No lesson is published in this course yet.'}</p>
        </Empty>
      ) : null}
      {course && course.lessons.length > 0 ? (
        <ol className="lesson-list">
          {course.lessons.map((l) => (
            <li key={l.id} className={l.myProgress?.completed ? 'completed' : undefined}>
              {canWatch && l.status === 'READY' ? <Link href={lessonPath(courseId, l.id)}>{l.title}</Link> : <span>{l.title}</span>}
              <span className="duration" aria-label={`Duration ${formatDuration(l.durationSeconds)}`}>
                {formatDuration(l.durationSeconds)}
              </span>
              {isOwner && l.status !== 'READY' ? <span className="tag">{describeStatus(l)}</span> : null}
              {l.myProgress?.completed ? <span className="done">✓ Completed</span> : null}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
