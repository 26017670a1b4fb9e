import type { Replica } from '@dream/testenv';
import type { CoursesSubgraph } from '../src/service';

export { errorCode } from '@dream/common/testing';

/** A courses replica a suite started with `useStack({ discovery: false }).subgraph('courses')`. */
export type TestCourses = Replica<CoursesSubgraph>;

export const COURSE_FIELDS = 'id name info category price owner { id } cursor createdAt updatedAt';

export const CREATE = /* GraphQL */ `
  mutation Create($input: CreateCourseInput!) { createCourse(input: $input) { ${COURSE_FIELDS} } }
`;
export const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateCourseInput!) { updateCourse(id: $id, input: $input) { ${COURSE_FIELDS} } }
`;
export const DELETE = /* GraphQL */ `
  mutation Delete($id: ID!) { deleteCourse(id: $id) { id message } }
`;
export const LIST = /* GraphQL */ `
  query List($category: String, $ownerId: ID, $first: Int, $after: String) {
    courses(category: $category, ownerId: $ownerId, first: $first, after: $after) { ${COURSE_FIELDS} }
  }
`;
export const JOIN = /* GraphQL */ `
  mutation Join($category: String!) { joinLobby(category: $category) { status courseId message course { id category } } }
`;

export function courseInput(over: Record<string, unknown> = {}) {
  return { name: 'Strategy', info: 'text', category: 'Programming', price: '123', ...over };
}
