import { getIntrospectionQuery, parse } from 'graphql';
import { measureDocument } from '../src/limits';

describe('measureDocument', () => {
  it('counts depth through fragments and inline fragments', () => {
    const doc = parse(`
      query { courses { ...C } }
      fragment C on Course { owner { ... on User { ownedCourses { id } } } }
    `);
    expect(measureDocument(doc)).toEqual({ depth: 4, aliases: 0 });
  });

  it('counts aliases everywhere, fragments included', () => {
    const doc = parse(`
      query { a: courses { x: id } b: course(id: "1") { ...F } }
      fragment F on Course { y: name z: price }
    `);
    expect(measureDocument(doc).aliases).toBe(5);
  });

  it('does not count introspection towards depth, so Sandbox works under the default limit', () => {
    expect(measureDocument(parse(getIntrospectionQuery())).depth).toBe(0);
    expect(measureDocument(parse('{ __typename courses { id } }')).depth).toBe(2);
  });
});
