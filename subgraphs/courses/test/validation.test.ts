import fc from 'fast-check';
import { checkPrice, validateCreate, validateUpdate, InvalidPrice } from '../src/validation';
import { decodeCursor, encodeCursor } from '../src/domain';

describe('checkPrice', () => {
  test.each([
    [0, 0],
    ['0', 0],
    ['123', 123],
    [' 123 ', 123],
    [19.99, 19.99],
    ['19.99', 19.99],
    ['19.90', 19.9],
    [1_000_000, 1_000_000],
  ])('accepts %p as %p', (raw, value) => {
    expect(checkPrice(raw)).toEqual({ ok: true, value });
  });

  test.each([-1, '-0.01', 'abc', '', '12abc', '1e3', '0x10', NaN, Infinity, 1.001, '1.001', 1_000_000.01, null, true, {}, []])(
    'refuses %p',
    (raw) => {
      expect(checkPrice(raw).ok).toBe(false);
    },
  );

  test('every amount of cents in range is accepted, as number and as string', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), (cents) => {
        const value = cents / 100;
        expect(checkPrice(value)).toEqual({ ok: true, value });
        expect(checkPrice(value.toFixed(2))).toEqual({ ok: true, value });
      }),
    );
  });

  test('every negative number is refused', () => {
    fc.assert(fc.property(fc.double({ max: -Number.MIN_VALUE, noNaN: true }), (v) => !checkPrice(v).ok));
  });
});

describe('course input', () => {
  test('create trims text and reports every bad field', () => {
    expect(validateCreate({ name: ' A ', info: ' multi\nline\t ', category: ' Cat ', price: '1' })).toEqual({
      name: 'A',
      info: 'multi\nline',
      category: 'Cat',
      price: 1,
    });
    try {
      validateCreate({ name: '', info: 5, category: 'a\nb', price: new InvalidPrice('Price must not be negative.') });
      throw new Error('expected a failure');
    } catch (e) {
      expect((e as { code: string }).code).toBe('BAD_USER_INPUT');
      expect((e as { fields: unknown }).fields).toEqual([
        { field: 'name', message: 'name must not be empty.' },
        { field: 'info', message: 'info must be a string.' },
        { field: 'category', message: 'category must not contain control characters.' },
        { field: 'price', message: 'Price must not be negative.' },
      ]);
    }
  });

  test('name is 1–200 characters', () => {
    expect(validateCreate({ name: 'x'.repeat(200), info: '', category: 'c', price: 0 }).name).toHaveLength(200);
    expect(() => validateCreate({ name: 'x'.repeat(201), info: '', category: 'c', price: 0 })).toThrow(/at most 200/);
  });

  test('update takes only what is given and refuses nothing at all', () => {
    expect(validateUpdate({ price: '2.50', name: null })).toEqual({ price: 2.5 });
    expect(() => validateUpdate({})).toThrow(/Nothing to update/);
  });
});

describe('cursor', () => {
  test('round-trips and rejects anything else', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), fc.uuid(), (date, id) => {
        const c = { createdAt: date.toISOString(), id };
        expect(decodeCursor(encodeCursor(c))).toEqual(c);
      }),
    );
    expect(decodeCursor('')).toBeUndefined();
    expect(decodeCursor('%%%')).toBeUndefined();
    expect(decodeCursor(Buffer.from('no-separator').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(Buffer.from('not a date|id').toString('base64url'))).toBeUndefined();
  });
});
