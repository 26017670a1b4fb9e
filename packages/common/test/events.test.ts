import { EVENT_CHANNELS, isFixedChannel, parseDeclaredEvent, parseEvent, publishDeclaredEvent, publishEvent } from '../src/events';

describe('the Redis event contract', () => {
  it('reads what a publisher writes, on every channel', async () => {
    const sent: Array<[string, string]> = [];
    const redis = { publish: async (channel: string, message: string) => sent.push([channel, message]) };
    await publishEvent(redis, 'course.created', { courseId: 'c1', ownerId: 'u1', category: 'Music' });
    await publishEvent(redis, 'notification', { userId: 'u2', kind: 'lobby', text: 'joined', courseId: 'c1' });
    expect(parseEvent('course.created', sent[0][1])).toEqual({ courseId: 'c1', ownerId: 'u1', category: 'Music' });
    expect(parseEvent('notification', sent[1][1])).toEqual({ userId: 'u2', kind: 'lobby', text: 'joined', courseId: 'c1', createdAt: undefined });
    expect(EVENT_CHANNELS).toEqual(['course.created', 'course.updated', 'course.deleted', 'notification']);
  });

  it('drops what does not have the shape, and reads absent optional text as absent', () => {
    expect(parseEvent('course.updated', '{not json')).toBeUndefined();
    expect(parseEvent('course.updated', JSON.stringify({ courseId: '', ownerId: 'u', category: 'x' }))).toBeUndefined();
    expect(parseEvent('course.deleted', JSON.stringify({ courseId: 'c', category: 'x' }))).toBeUndefined();
    expect(parseEvent('notification', JSON.stringify({ userId: 'u', kind: 'k', text: 't', courseId: 7, createdAt: '' }))).toEqual({
      userId: 'u',
      kind: 'k',
      text: 't',
      courseId: null,
      createdAt: undefined,
    });
    expect(parseEvent('notification', JSON.stringify({ userId: 'u', kind: '', text: 't' }))).toBeUndefined();
  });

  it('reads a declared channel generically: a JSON object with an id, every other field kept', async () => {
    const sent: string[] = [];
    await publishDeclaredEvent({ publish: async (_channel: string, message: string) => sent.push(message) }, 'lesson.updated', { id: 'l1', courseId: 'c1', status: 'READY' });
    expect(parseDeclaredEvent(sent[0])).toEqual({ id: 'l1', courseId: 'c1', status: 'READY' });
    // a numeric id is read as the string the entity query takes
    expect(parseDeclaredEvent(JSON.stringify({ id: 7, courseId: 'c1' }))).toEqual({ id: '7', courseId: 'c1' });
    for (const raw of ['{not json', '[]', '"l1"', 'null', JSON.stringify({ courseId: 'c1' }), JSON.stringify({ id: '' }), JSON.stringify({ id: { x: 1 } }), JSON.stringify({ id: null })])
      expect(parseDeclaredEvent(raw)).toBeUndefined();
  });

  it('tells the fixed channels from declared ones', () => {
    for (const c of EVENT_CHANNELS) expect(isFixedChannel(c)).toBe(true);
    expect(isFixedChannel('lesson.updated')).toBe(false);
  });
});
