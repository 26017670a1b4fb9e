import type { ReactNode } from 'react';
import { Link } from 'wouter';
import { formatPrice } from './Status';

export interface CourseSummary {
  id: string;
  name: string;
  category: string;
  price: number;
  owner?: { id: string; username: string };
}

/** A card whose link is named by the course name alone (the rest is described around it). */
export function CourseCard({ course, badge, children }: { course: CourseSummary; badge?: string; children?: ReactNode }) {
  return (
    <li className="card">
      <h3>
        <Link href={`/course/${course.id}`}>{course.name}</Link>
      </h3>
      <p className="meta">
        <span className="tag">{course.category}</span>
        <span className="price">{formatPrice(course.price)}</span>
      </p>
      {course.owner ? <p className="owner">by {course.owner.username}</p> : null}
      {badge ? <p className="badge">{badge}</p> : null}
      {children}
    </li>
  );
}
