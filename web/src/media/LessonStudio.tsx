import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription, type UseMutationState } from 'urql';
import { Empty, ErrorMessage, Loading, Notice } from '../components/Status';
import { COURSE_LESSONS, CREATE_LESSON, DELETE_LESSON, LESSON_UPDATED, MOVE_LESSON, RETRANSCODE_LESSON, UPDATE_LESSON } from '../graphql/documents';
import type { CourseLessonsData } from './LessonList';
import { describeStatus, formatDuration, type Lesson } from './types';
import { UploadButton } from './UploadButton';
import { MediaError } from './MediaError';

/**
 * The owner's lessons of one course: add, rename, reorder, delete, upload a video and follow its
 * processing live (lessonUpdated), with the failure reason and a retry when transcoding fails.
 */
export function LessonStudio({ courseId }: { courseId: string }) {
  const [result, refetch] = useQuery<CourseLessonsData>({ query: COURSE_LESSONS, variables: { id: courseId }, requestPolicy: 'cache-and-network' });
  // live states by lesson id, newer than the last fetch; a fresh fetch replaces them
  const [live, setLive] = useState<Record<string, Lesson>>({});
  const [event, resubscribe] = useSubscription<{ lessonUpdated: Lesson }>({ query: LESSON_UPDATED, variables: { courseId } });
  useEffect(() => {
    const l = event.data?.lessonUpdated;
    if (l) setLive((m) => ({ ...m, [l.id]: l }));
  }, [event.data]);
  const reload = () => {
    setLive({});
    refetch({ requestPolicy: 'network-only' });
  };

  const [created, create] = useMutation<{ createLesson: Lesson }>(CREATE_LESSON);
  const [moved, move] = useMutation(MOVE_LESSON);
  const [deleted, remove] = useMutation<{ deleteLesson: { id: string } }>(DELETE_LESSON);
  const [renamed, rename] = useMutation(UPDATE_LESSON);
  const [retried, retry] = useMutation(RETRANSCODE_LESSON);
  const after = async (run: Promise<{ error?: unknown }>) => {
    if (!(await run).error) reload();
  };

  const [title, setTitle] = useState('');
  // the API's answer names the lesson by id: the notice names it by its title
  const [deletedTitle, setDeletedTitle] = useState<string>();
  const onAdd = async (e: FormEvent) => {
    e.preventDefault();
    const r = await create({ courseId, title: title.trim() });
    if (r.data) {
      setTitle('');
      reload();
    }
  };

  const lessons = (result.data?.course?.lessons ?? []).map((l) => ({ ...l, ...live[l.id] }));
  const failures: Array<[UseMutationState, string]> = [
    [created, 'Could not add the lesson'],
    [moved, 'Could not move the lesson'],
    [deleted, 'Could not delete the lesson'],
    [renamed, 'Could not rename the lesson'],
    [retried, 'Could not retry the processing'],
  ];
  return (
    <section className="lesson-studio" aria-labelledby="lesson-studio-h">
      <h2 id="lesson-studio-h">Lessons</h2>
      <form className="inline-form" onSubmit={onAdd}>
        <label>
          Lesson title
          <input value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} />
        </label>
        <button type="submit" disabled={created.fetching}>
          Add lesson
        </button>
      </form>
      {failures.map(([state, action]) => (
        <ErrorMessage key={action} error={state.error} action={action} />
      ))}
      <MediaError error={result.error} action="Could not load the lessons" />
      {event.error ? (
        <p role="alert" className="error">
          <strong>Live status stopped: </strong>
          {event.error.message}{' '}
          <button type="button" className="secondary" onClick={() => resubscribe()}>
            Reconnect
          </button>
        </p>
      ) : null}
      {deleted.data && deletedTitle ? <Notice>Deleted the lesson “{deletedTitle}”.</Notice> : null}
      {result.fetching && !result.data ? <Loading what="the lessons" /> : null}
      {result.data && lessons.length === 0 ? (
        <Empty>
          <p>No lesson yet: add the first one, then upload its video.</p>
        </Empty>
      ) : null}
      {lessons.length > 0 ? (
        <ol className="lesson-list studio-lessons" aria-label="Your lessons">
          {lessons.map((l, i) => (
            <LessonRow
              key={l.id}
              lesson={l}
              first={i === 0}
              last={i === lessons.length - 1}
              onMove={(position) => after(move({ id: l.id, position }))}
              onRename={(t) => after(rename({ id: l.id, input: { title: t } }))}
              onDelete={() => (setDeletedTitle(l.title), after(remove({ id: l.id })))}
              onRetry={() => after(retry({ lessonId: l.id }))}
            />
          ))}
        </ol>
      ) : null}
    </section>
  );
}

interface RowProps {
  lesson: Lesson;
  first: boolean;
  last: boolean;
  onMove(position: number): void;
  onRename(title: string): void;
  onDelete(): void;
  onRetry(): void;
}

function LessonRow({ lesson: l, first, last, onMove, onRename, onDelete, onRetry }: RowProps) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(l.title);
  const [confirming, setConfirming] = useState(false);
  const titleId = `lesson-${l.id}-title`;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setEditing(false);
    if (draft.trim() && draft.trim() !== l.title) onRename(draft.trim());
  };
  return (
    <li>
      {editing ? (
        <form className="inline-form" onSubmit={submit}>
          <label>
            New title for {l.title}
            <input value={draft} onChange={(e) => setDraft(e.target.value)} required maxLength={200} autoFocus />
          </label>
          <button type="submit">Save</button>
          <button type="button" className="secondary" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <span id={titleId} className="lesson-title">
          {l.title}
        </span>
      )}
      <span className="duration">{formatDuration(l.durationSeconds)}</span>
      <span className={`tag status-${l.status.toLowerCase()}`} role="status" aria-label={`Status of ${l.title}: ${describeStatus(l)}`}>
        {describeStatus(l)}
      </span>
      {l.status === 'FAILED' ? (
        <span className="failure">
          <span role="alert" className="error">
            {l.failureReason ?? 'Processing failed.'}
          </span>{' '}
          <button type="button" className="secondary" onClick={onRetry} aria-describedby={titleId}>
            Retry
          </button>
        </span>
      ) : null}
      <span className="row-actions">
        <UploadButton lessonId={l.id} describedBy={titleId} processing={l.status === 'UPLOADING' || l.status === 'PROCESSING'} />
        <button type="button" className="secondary" onClick={() => (setDraft(l.title), setEditing(true))} aria-label={`Rename ${l.title}`}>
          Rename
        </button>
        <button type="button" className="secondary" disabled={first} onClick={() => onMove(l.position - 1)} aria-label={`Move ${l.title} up`}>
          ↑
        </button>
        <button type="button" className="secondary" disabled={last} onClick={() => onMove(l.position + 1)} aria-label={`Move ${l.title} down`}>
          ↓
        </button>
        {confirming ? (
          <span role="group" aria-label={`Confirm deleting ${l.title}`}>
            <button type="button" className="danger" onClick={onDelete}>
              Yes, delete
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" className="secondary" onClick={() => setConfirming(true)} aria-label={`Delete ${l.title}`}>
            Delete
          </button>
        )}
      </span>
    </li>
  );
}
