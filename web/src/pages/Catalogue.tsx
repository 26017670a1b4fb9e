import { useEffect, useRef, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { CourseCard, type CourseSummary } from '../components/CourseCard';
import { Empty, ErrorMessage, Loading, Notice } from '../components/Status';
import { CATALOGUE, COURSE_CREATED, COURSE_DELETED, COURSE_UPDATED } from '../graphql/documents';

const PAGE_SIZE = 12;

interface CatalogueData {
  courses: Array<CourseSummary & { cursor: string }>;
  categories: string[];
}

/** Waits for typing to pause before searching, so each keystroke is not a request. */
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/**
 * The catalogue: category filter, search by name, keyset pages (one cursor per page visited, so
 * "Previous" is exact), and live cards: a created, updated or deleted course refreshes the page.
 */
export function CataloguePage() {
  const [category, setCategory] = useState('');
  const [searchText, setSearchText] = useState('');
  const search = useDebounced(searchText.trim(), 300);
  const [cursors, setCursors] = useState<string[]>([]); // cursors[i] = `after` of page i+1
  const after = cursors.at(-1);
  // a page asks one more than it shows, to know whether a next page exists
  const [result, refetch] = useQuery<CatalogueData>({
    query: CATALOGUE,
    variables: { category: category || null, search: search || null, first: PAGE_SIZE + 1, after: after ?? null },
  });
  const [live, setLive] = useState<string>();

  useEffect(() => setCursors([]), [category, search]);

  // Live cards: any course event refetches the page shown (debounced: a burst is one refetch).
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const refresh = (message?: string) => {
    if (message) setLive(message);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => refetch({ requestPolicy: 'network-only' }), 150);
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  const [created] = useSubscription<{ courseCreated: { id: string; name: string } }>({ query: COURSE_CREATED, variables: { category: category || null } });
  const [updated] = useSubscription<{ courseUpdated: { id: string } }>({ query: COURSE_UPDATED, variables: { id: null } });
  const [deleted] = useSubscription<{ courseDeleted: { id: string } }>({ query: COURSE_DELETED });
  // each event is a new `data` object, so each runs its effect once
  useEffect(() => {
    if (created.data) refresh(`New course: ${created.data.courseCreated.name}`);
  }, [created.data]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (updated.data || deleted.data) refresh();
  }, [updated.data, deleted.data]); // eslint-disable-line react-hooks/exhaustive-deps

  const data = result.data;
  const courses = data?.courses.slice(0, PAGE_SIZE) ?? [];
  const hasNext = (data?.courses.length ?? 0) > PAGE_SIZE;
  const page = cursors.length + 1;

  return (
    <section>
      <h1>Courses</h1>
      <div className="filters" role="search">
        <label>
          Search by name
          <input type="search" value={searchText} onChange={(e) => setSearchText(e.target.value)} placeholder="e.g. Rust" />
        </label>
        <label>
          Filter by category
          <select value={category} onChange={(e) => setCategory(e.target.value)}>
            <option value="">All categories</option>
            {(data?.categories ?? []).map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div aria-live="polite" className="live">
        {live ? <Notice>{live}</Notice> : null}
      </div>
      <ErrorMessage error={result.error} action="Could not load the courses" />
      {result.fetching && !data ? <Loading what="courses" /> : null}
      {data && courses.length === 0 ? (
        <Empty>
          {search || category ? (
            <p>No course matches {search ? `“${search}”` : 'this filter'}{category ? ` in ${category}` : ''}.</p>
          ) : (
            <p>No course has been published yet. Owners publish theirs from the Studio.</p>
          )}
        </Empty>
      ) : null}
      {courses.length > 0 ? (
        <ul className="cards" aria-label="Courses" aria-busy={result.fetching}>
          {courses.map((c) => (
            <CourseCard key={c.id} course={c} />
          ))}
        </ul>
      ) : null}
      {page > 1 || hasNext ? (
        <nav className="pager" aria-label="Pages">
          <button type="button" className="secondary" disabled={page === 1} onClick={() => setCursors((cs) => cs.slice(0, -1))}>
            Previous page
          </button>
          <span>Page {page}</span>
          <button
            type="button"
            className="secondary"
            disabled={!hasNext}
            onClick={() => setCursors((cs) => [...cs, courses[courses.length - 1].cursor])}
          >
            Next page
          </button>
        </nav>
      ) : null}
    </section>
  );
}
