import type { CourseProgress } from './types';

/** The course's progress as a native <progress> (announced by screen readers) with its figure in words. */
export function CourseProgressBar({ progress, label = 'Course progress' }: { progress: CourseProgress | null | undefined; label?: string }) {
  if (!progress) return null;
  const words = `${progress.percent} % (${progress.completedLessons} of ${progress.totalLessons} lessons completed)`;
  return (
    <div className="course-progress">
      <progress max={100} value={progress.percent} aria-label={label} aria-valuetext={words} />
      <span>{words}</span>
    </div>
  );
}
