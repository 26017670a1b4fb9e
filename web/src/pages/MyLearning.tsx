import { useQuery } from 'urql';
import { Link } from 'wouter';
import { CourseCard, type CourseSummary } from '../components/CourseCard';
import { Empty, ErrorMessage, Loading } from '../components/Status';
import { MY_COURSES } from '../graphql/documents';

export function MyLearningPage() {
  // always asked again: a purchase made in another tab must show
  const [result] = useQuery<{ me: { enrolledCourses: CourseSummary[] } | null }>({ query: MY_COURSES, requestPolicy: 'cache-and-network' });
  const courses = result.data?.me?.enrolledCourses;
  return (
    <section>
      <h1>My learning</h1>
      <ErrorMessage error={result.error} action="Could not load your courses" />
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
            <CourseCard key={c.id} course={c} badge="Enrolled" />
          ))}
        </ul>
      ) : null}
    </section>
  );
}
