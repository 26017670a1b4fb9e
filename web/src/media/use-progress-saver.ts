import { useEffect, useRef, useState } from 'react';
import { saveProgress } from './save-progress';
import type { LessonProgress } from './types';
import { SAVE_EVERY_MS, watchedTotal } from './watch-progress';

/**
 * Saves the person's position and watched time every SAVE_EVERY_MS while the video plays, and at once
 * on pause, end and page hide. Returns the latest saved progress and the last saving error in words.
 */
export function useProgressSaver(
  video: HTMLVideoElement | null,
  lesson: { id: string; durationSeconds: number | null; previousWatched: number },
  token: string | undefined,
  onSaved: (p: LessonProgress) => void,
): string | undefined {
  const [error, setError] = useState<string>();
  const onSavedRef = useRef(onSaved);
  onSavedRef.current = onSaved;
  const { id, durationSeconds, previousWatched } = lesson;

  useEffect(() => {
    if (!video) return;
    let lastSent = '';
    const save = () => {
      const report = {
        lessonId: id,
        positionSeconds: video.currentTime,
        watchedSeconds: watchedTotal(previousWatched, video.played, durationSeconds),
      };
      const key = `${report.positionSeconds.toFixed(1)}:${report.watchedSeconds.toFixed(1)}`;
      // nothing played in this visit (e.g. leaving before the resume seek) or nothing new: no report that could move the saved position back
      if (video.played.length === 0 || key === lastSent) return;
      lastSent = key;
      saveProgress(token, report).then(
        (p) => {
          setError(undefined);
          onSavedRef.current(p);
        },
        (e: Error) => setError(e.message),
      );
    };
    const timer = setInterval(() => {
      if (!video.paused) save();
    }, SAVE_EVERY_MS);
    const onHide = () => save();
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') save();
    };
    video.addEventListener('pause', save);
    video.addEventListener('ended', save);
    addEventListener('pagehide', onHide);
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      save(); // leaving the player inside the app (next lesson, another page)
      clearInterval(timer);
      video.removeEventListener('pause', save);
      video.removeEventListener('ended', save);
      removeEventListener('pagehide', onHide);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [video, id, durationSeconds, previousWatched, token]);

  return error;
}
