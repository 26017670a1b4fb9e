import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { Link, useLocation } from 'wouter';
import { Empty, ErrorMessage, Loading, Notice, formatPrice } from '../components/Status';
import { COURSE, CREATE_COURSE, DELETE_COURSE, MY_COURSES, UPDATE_COURSE } from '../graphql/documents';
import { LessonStudio } from '../media/LessonStudio';

interface OwnedCourse {
  id: string;
  name: string;
  category: string;
  price: number;
  createdAt: string;
}

/** The owner's studio: their courses, with edit and delete; "Create course" opens the form. */
export function StudioPage() {
  const [result, refetch] = useQuery<{ me: { ownedCourses: OwnedCourse[] } | null }>({ query: MY_COURSES, requestPolicy: 'cache-and-network' });
  const [removed, remove] = useMutation<{ deleteCourse: { id: string; message: string } }>(DELETE_COURSE);
  const [confirming, setConfirming] = useState<string>();
  const courses = result.data?.me?.ownedCourses;

  const onDelete = async (id: string) => {
    const r = await remove({ id });
    setConfirming(undefined);
    if (r.data) refetch({ requestPolicy: 'network-only' });
  };

  return (
    <section>
      <div className="heading-row">
        <h1>Studio</h1>
        <Link href="/studio/new" className="button">
          Create course
        </Link>
      </div>
      <ErrorMessage error={result.error} action="Could not load your courses" />
      <ErrorMessage error={removed.error} action="Could not delete the course" />
      {removed.data ? <Notice>{removed.data.deleteCourse.message}</Notice> : null}
      {result.fetching && !courses ? <Loading what="your courses" /> : null}
      {courses && courses.length === 0 ? (
        <Empty>
          <p>You have not published a course yet. Create your first one: students see it at once.</p>
        </Empty>
      ) : null}
      {courses && courses.length > 0 ? (
        <table className="studio">
          <caption className="visually-hidden">Your courses</caption>
          <thead>
            <tr>
              <th scope="col">Course</th>
              <th scope="col">Category</th>
              <th scope="col">Price</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {courses.map((c) => (
              <tr key={c.id}>
                <th scope="row">
                  <Link href={`/course/${c.id}`}>{c.name}</Link>
                </th>
                <td>{c.category}</td>
                <td>{formatPrice(c.price)}</td>
                <td className="row-actions">
                  {confirming === c.id ? (
                    <span role="group" aria-label={`Confirm deleting ${c.name}`}>
                      <button type="button" className="danger" onClick={() => onDelete(c.id)} disabled={removed.fetching}>
                        Yes, delete
                      </button>
                      <button type="button" className="secondary" onClick={() => setConfirming(undefined)}>
                        Cancel
                      </button>
                    </span>
                  ) : (
                    <>
                      <Link href={`/studio/${c.id}`} aria-label={`Edit ${c.name}`}>
                        Edit
                      </Link>
                      <button type="button" className="secondary" aria-label={`Delete ${c.name}`} onClick={() => setConfirming(c.id)}>
                        Delete
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

interface CourseFields {
  name: string;
  info: string;
  category: string;
  price: string;
}

function CourseForm({ initial, submitLabel, busy, onSubmit }: { initial: CourseFields; submitLabel: string; busy: boolean; onSubmit(f: CourseFields): void }) {
  const [f, setF] = useState(initial);
  const bind = (name: keyof CourseFields) => ({
    name,
    value: f[name],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => setF((x) => ({ ...x, [name]: e.target.value })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(f);
  };
  return (
    <form onSubmit={submit} className="form">
      <label>
        Course name
        <input {...bind('name')} required maxLength={200} />
      </label>
      <label>
        Description
        <textarea {...bind('info')} rows={6} maxLength={10000} />
      </label>
      <label>
        Category
        <input {...bind('category')} required maxLength={64} list="category-suggestions" />
      </label>
      <label>
        Price
        <input {...bind('price')} required inputMode="decimal" pattern="\d+(\.\d{1,2})?" aria-describedby="price-help" />
      </label>
      <small id="price-help">In US dollars, e.g. 19.99; 0 makes the course free.</small>
      <button type="submit" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

export function CreateCoursePage() {
  const [, navigate] = useLocation();
  const [result, create] = useMutation<{ createCourse: { id: string } }>(CREATE_COURSE);
  return (
    <section className="narrow">
      <h1>New course</h1>
      <CourseForm
        initial={{ name: '', info: '', category: '', price: '' }}
        submitLabel="Create course"
        busy={result.fetching}
        onSubmit={async (f) => {
          const r = await create({ input: { name: f.name.trim(), info: f.info, category: f.category.trim(), price: f.price.trim() } });
          if (r.data) navigate(`/course/${r.data.createCourse.id}`);
        }}
      />
      <ErrorMessage error={result.error} action="Could not create the course" />
    </section>
  );
}

export function EditCoursePage({ id }: { id: string }) {
  const [course] = useQuery<{ course: (CourseFields & { id: string; price: number }) | null }>({ query: COURSE, variables: { id } });
  const [result, update] = useMutation(UPDATE_COURSE);
  const c = course.data?.course;
  if (course.fetching && !course.data) return <Loading what="the course" />;
  if (course.error) return <ErrorMessage error={course.error} action="Could not load the course" />;
  if (!c) return <p>This course does not exist or was deleted.</p>;
  return (
    <section className="narrow">
      <h1>Edit “{c.name}”</h1>
      <CourseForm
        initial={{ name: c.name, info: c.info, category: c.category, price: String(c.price) }}
        submitLabel="Save changes"
        busy={result.fetching}
        onSubmit={(f) => update({ id, input: { name: f.name.trim(), info: f.info, category: f.category.trim(), price: f.price.trim() } })}
      />
      <ErrorMessage error={result.error} action="Could not save" />
      {result.data && !result.error ? <Notice>Saved. Students see the change live.</Notice> : null}
      <LessonStudio courseId={id} />
      <p>
        <Link href="/studio">Back to the Studio</Link>
      </p>
    </section>
  );
}
