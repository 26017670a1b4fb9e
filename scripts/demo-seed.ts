/**
 * Demo data for `npm start`: on the first start with an empty data folder the launcher fills a small
 * catalogue through the gateway's public GraphQL API (the same path a user's client takes, so every
 * rule — validation, roles, purchases over gRPC — applies): an owner, a student, courses in several
 * categories, and one purchase. The accounts get random passwords, printed by the launcher and kept in
 * `<DATA_DIR>/demo-accounts.json` (owner-readable only) so later starts can print them again.
 * Then a lesson with a short generated video in the student's course (demo-lesson.ts), uploaded with tus
 * and transcoded by the media worker in the background.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedDemoLesson, type DemoLesson } from './demo-lesson';
import { gatewayGraphql } from './gateway-graphql';

export interface DemoAccount {
  role: 'OWNER' | 'STUDENT';
  username: string;
  password: string;
  email: string;
}

export interface DemoData {
  accounts: DemoAccount[];
  courses: Array<{ id: string; name: string; category: string }>;
  /** The course the student owns. */
  purchased: string;
  /** The lesson with video in that course, once uploaded (transcoding may still be running). */
  lesson?: DemoLesson;
}

export const DEMO_ACCOUNTS_FILE = 'demo-accounts.json';

/** The database files `npm start` keeps in DATA_DIR: when none exists yet, this is the first start. */
const DATA_FILES = ['users.db', 'courses.db'];

export interface SeedDecisionInput {
  /** SEED_DEMO, already parsed (default true). */
  seedDemo: boolean;
  nodeEnv: string | undefined;
  dataDir: string;
  /** A DATABASE_URL given for a subgraph: its data is not in DATA_DIR, so the folder says nothing. */
  externalDatabase: boolean;
}

/** Whether this start seeds, and why not (logged) when it does not. */
export function seedDecision(input: SeedDecisionInput): { seed: true } | { seed: false; reason: string } {
  if (!input.seedDemo) return { seed: false, reason: 'SEED_DEMO=false' };
  if (input.nodeEnv === 'production') return { seed: false, reason: 'NODE_ENV=production' };
  if (input.externalDatabase) return { seed: false, reason: 'a subgraph uses its own DATABASE_URL' };
  const existing = DATA_FILES.filter((f) => existsSync(join(input.dataDir, f)));
  if (existing.length > 0) return { seed: false, reason: `the data folder is not empty (${existing.join(', ')})` };
  return { seed: true };
}

const CATALOGUE: Array<{ name: string; info: string; category: string; price: string }> = [
  { name: 'TypeScript from zero', info: 'Types, narrowing and generics through small exercises.', category: 'Programming', price: '49' },
  { name: 'GraphQL federation in practice', info: 'Subgraphs, entities and a gateway, step by step.', category: 'Programming', price: '79.90' },
  { name: 'Colour and type for interfaces', info: 'Palettes, contrast and typographic scales for screens.', category: 'Design', price: '39' },
  { name: 'Home recording basics', info: 'Microphones, gain staging and a first mix.', category: 'Music', price: '29' },
  { name: 'Spanish for travellers', info: 'The phrases and listening skills for a first trip.', category: 'Languages', price: '19.50' },
];

const password = () => randomBytes(12).toString('base64url');

const graphql = <T>(gatewayUrl: string, query: string, variables: Record<string, unknown>, jwt?: string) =>
  gatewayGraphql<T>(gatewayUrl, query, variables, { jwt, what: 'demo seed' });

const SIGNUP = 'mutation Signup($input: SignupInput!) { signup(input: $input) { jwt } }';
const CREATE = 'mutation Create($input: CreateCourseInput!) { createCourse(input: $input) { id name category } }';
const BUY = 'mutation Buy($courseId: ID!) { buyCourse(courseId: $courseId, idempotencyKey: "demo-seed") { course { id } } }';

/** Creates the demo catalogue through the gateway and saves the accounts in DATA_DIR. */
export async function seedDemo(gatewayUrl: string, dataDir: string): Promise<DemoData> {
  const owner: DemoAccount = { role: 'OWNER', username: 'demo-owner', password: password(), email: 'demo-owner@example.org' };
  const student: DemoAccount = { role: 'STUDENT', username: 'demo-student', password: password(), email: 'demo-student@example.org' };
  const jwts = new Map<DemoAccount, string>();
  for (const a of [owner, student]) {
    const { signup } = await graphql<{ signup: { jwt: string } }>(gatewayUrl, SIGNUP, {
      input: { username: a.username, password: a.password, email: a.email, roles: [a.role] },
    });
    jwts.set(a, signup.jwt);
  }
  const courses: DemoData['courses'] = [];
  for (const c of CATALOGUE) {
    const { createCourse } = await graphql<{ createCourse: DemoData['courses'][number] }>(gatewayUrl, CREATE, { input: c }, jwts.get(owner));
    courses.push(createCourse);
  }
  const { buyCourse } = await graphql<{ buyCourse: { course: { id: string } } }>(gatewayUrl, BUY, { courseId: courses[0].id }, jwts.get(student));
  const data: DemoData = { accounts: [owner, student], courses, purchased: buyCourse.course.id };
  saveDemoData(dataDir, data);
  return data;
}

function saveDemoData(dataDir: string, data: DemoData): void {
  writeFileSync(join(dataDir, DEMO_ACCOUNTS_FILE), `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Adds the demo lesson (a generated video, uploaded as its owner) to the course the student bought, and
 * records it with the accounts. Separate from seedDemo so that a missing ffmpeg costs only the lesson.
 */
export async function seedDemoVideoLesson(gatewayUrl: string, dataDir: string, data: DemoData, ffmpegPath?: string): Promise<DemoData> {
  const owner = data.accounts.find((a) => a.role === 'OWNER');
  if (!owner) throw new Error('demo lesson: the demo data has no owner account');
  const lesson = await seedDemoLesson({ gatewayUrl, courseId: data.purchased, owner, ffmpegPath });
  const withLesson = { ...data, lesson };
  saveDemoData(dataDir, withLesson);
  return withLesson;
}

/** The demo data seeded on an earlier start, if any. */
export function readDemoData(dataDir: string): DemoData | undefined {
  const file = join(dataDir, DEMO_ACCOUNTS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoData;
  } catch {
    return undefined;
  }
}

/** The lines the launcher prints under its URLs. */
export function demoLines(data: DemoData): string[] {
  const categories = [...new Set(data.courses.map((c) => c.category))];
  const bought = data.courses.find((c) => c.id === data.purchased)?.name ?? data.purchased;
  return [
    `Demo data: ${data.courses.length} courses in ${categories.join(', ')}; demo-student owns "${bought}".`,
    ...(data.lesson ? [`  "${bought}" has a lesson with video, "${data.lesson.title}" (playable once the media worker has transcoded it).`] : []),
    ...data.accounts.map((a) => `  ${a.role.toLowerCase().padEnd(7)}  username ${a.username.padEnd(12)}  password ${a.password}`),
    `  (kept in the data folder's ${DEMO_ACCOUNTS_FILE}; SEED_DEMO=false or an existing data folder skips seeding)`,
  ];
}
