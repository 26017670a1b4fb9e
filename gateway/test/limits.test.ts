import { Kind, getIntrospectionQuery, parse } from 'graphql';
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

  it('walks each fragment once even when fragments each spread the next one twice (exponential otherwise)', () => {
    const n = 16;
    let text = 'query { ...F0 }\n';
    for (let i = 0; i < n; i++) text += `fragment F${i} on Query { course(id: "1") { ...F${i + 1} ...F${i + 1} } }\n`;
    text += `fragment F${n} on Query { categories }\n`;
    const doc = parse(text);
    // count how often each fragment's selections are walked (the old walk: 2^16 times for the last one)
    let walks = 0;
    for (const d of doc.definitions) {
      if (d.kind !== Kind.FRAGMENT_DEFINITION) continue;
      const selections = d.selectionSet.selections;
      Object.defineProperty(d.selectionSet, 'selections', {
        get: () => {
          walks++;
          return selections;
        },
      });
    }
    expect(measureDocument(doc).depth).toBe(n + 1);
    expect(walks).toBeLessThanOrEqual(2 * (n + 1));
  });

  it('does not count introspection towards depth, so Sandbox works under the default limit', () => {
    expect(measureDocument(parse(getIntrospectionQuery())).depth).toBe(0);
    expect(measureDocument(parse('{ __typename courses { id } }')).depth).toBe(2);
  });
});
