import { useEffect, useId, useRef, useState } from 'react';
import { useSubscription } from 'urql';
import { Link } from 'wouter';
import { MY_NOTIFICATIONS } from '../graphql/documents';
import type { SessionUser } from '../session/session';

interface Note {
  kind: string;
  courseId: string | null;
  text: string;
  createdAt: string;
  read?: boolean;
}

const MAX_KEPT = 50;
const keyOf = (userId: string) => `dream-and-study.notifications.${userId}`;

function loadNotes(userId: string): Note[] {
  try {
    return JSON.parse(localStorage.getItem(keyOf(userId)) ?? '[]') as Note[];
  } catch {
    return [];
  }
}

/**
 * The bell: notifications arrive live over graphql-ws (`myNotifications`: purchases of your courses,
 * new courses in categories you follow, lobby joins). The API keeps no history, so what arrived is
 * kept in this browser per user; opening the list marks everything read.
 */
export function NotificationBell({ user }: { user: SessionUser }) {
  const [notes, setNotes] = useState<Note[]>(() => loadNotes(user.id));
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const countId = useId();
  const wrapper = useRef<HTMLDivElement>(null);

  const [live] = useSubscription<{ myNotifications: Note }>({ query: MY_NOTIFICATIONS });
  useEffect(() => {
    const n = live.data?.myNotifications;
    if (!n) return;
    setNotes((prev) => [{ ...n, read: open }, ...prev].slice(0, MAX_KEPT));
    // each event is a new `data` object: this runs once per notification
  }, [live.data]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => localStorage.setItem(keyOf(user.id), JSON.stringify(notes)), [user.id, notes]);

  useEffect(() => {
    if (!open) return;
    setNotes((prev) => (prev.some((n) => !n.read) ? prev.map((n) => ({ ...n, read: true })) : prev));
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !wrapper.current?.contains(e.target as Node)) setOpen(false);
    };
    addEventListener('keydown', close);
    addEventListener('pointerdown', close);
    return () => {
      removeEventListener('keydown', close);
      removeEventListener('pointerdown', close);
    };
  }, [open, notes.length]);

  const unread = notes.filter((n) => !n.read).length;
  return (
    <div className="bell" ref={wrapper}>
      <button
        type="button"
        aria-label="Notifications"
        aria-describedby={countId}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
      >
        <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22">
          <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" fill="currentColor" />
        </svg>
        {unread > 0 ? (
          <span className="count" aria-hidden="true" data-testid="unread-count">
            {unread}
          </span>
        ) : null}
      </button>
      <span id={countId} className="visually-hidden">
        {unread === 1 ? '1 unread' : `${unread} unread`}
      </span>
      {open ? (
        <div id={panelId} className="panel" role="region" aria-label="Your notifications">
          {live.error ? <p className="error">Live notifications are paused: {live.error.message}</p> : null}
          {notes.length === 0 ? (
            <p className="empty">No notifications yet. You will hear here when someone buys your course or a new course appears in a category you follow.</p>
          ) : (
            <ul>
              {notes.map((n, i) => (
                <li key={`${n.createdAt}-${i}`}>
                  {n.courseId ? <Link href={`/course/${n.courseId}`} onClick={() => setOpen(false)}>{n.text}</Link> : n.text}
                  <time dateTime={n.createdAt}>{new Date(n.createdAt).toLocaleString()}</time>
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </div>
  );
}
