import { useQuery } from 'urql';
import { Link } from 'wouter';
import { CourseCard, type CourseSummary } from '../components/CourseCard';
import { Empty, ErrorMessage, Loading } from '../components/Status';
import { MY_COURSES, MY_LEARNING_PROGRESS } from '../graphql/documents';
import { CourseProgressBar } from '../media/ProgressBar';
import type { CourseProgress } from '../media/types';
import { MediaError } from '../media/MediaError';

export function MyLearningPage() {
  // always asked again: a purchase made in another tab must show
  const [result] = useQuery<{ me: { enrolledCourses: CourseSummary[] } | null }>({ query: MY_COURSES, requestPolicy: 'cache-and-network' });
  // progress comes from the media service: asked apart, so the list shows even when media is away
  const [progress] = useQuery<{ me: { enrolledCourses: Array<{ id: string; myProgress: CourseProgress | null }> } | null }>({
    query: MY_LEARNING_PROGRESS,
    requestPolicy: 'cache-and-network',
  });
  const progressOf = new Map(progress.data?.me?.enrolledCourses.map((c) => [c.id, c.myProgress]));
  const courses = result.data?.me?.enrolledCourses;
  return (
    <section>
      <h1>My learning</h1>
      <ErrorMessage error={result.error} action="Could not load your courses" />
      <MediaError error={progress.error} action="Could not load your progress" />
      {result.fetching && !courses ? <Loading what="your courses" /> : null}
      {courses && courses.length === 0 ? (
        <Empty>
          <p>You have not enrolled in any course yet.</p>
          <Link href="/">Browse the courses</Link>
        </Empty>
      ) : null}
      {courses && courses.length > 0 ? (
        <ul className="cards" aria-label="Your courses">
          {courses.map((c) => (
            <CourseCard key={c.id} course={c} badge="Enrolled">
              <CourseProgressBar progress={progressOf.get(c.id)} label={`Progress in ${c.name}`} />
            </CourseCard>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
