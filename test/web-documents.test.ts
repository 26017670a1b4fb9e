// The web app's operations against the committed supergraph: a schema change that would break a page
// (a renamed field, a changed argument) fails here, before any browser runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildASTSchema, parse, validate, type DocumentNode } from 'graphql';
import * as documents from '../web/src/graphql/documents';

const schema = buildASTSchema(parse(readFileSync(join(__dirname, '..', 'supergraph.graphql'), 'utf8')), { assumeValidSDL: true });
const operations = Object.entries(documents).filter((e): e is [string, DocumentNode] => typeof e[1] === 'object' && e[1] !== null && 'definitions' in e[1]);

test('the app has its lesson, player, upload and progress operations', () => {
  const names = operations.map(([name]) => name);
  for (const name of ['COURSE_LESSONS', 'LESSON_PLAYBACK', 'RECORD_LESSON_PROGRESS', 'REQUEST_LESSON_UPLOAD', 'LESSON_UPDATED', 'MOVE_LESSON']) expect(names).toContain(name);
});

test.each(operations)('%s is valid against supergraph.graphql', (_name, doc) => {
  expect(validate(schema, doc).map((e) => e.message)).toEqual([]);
});
