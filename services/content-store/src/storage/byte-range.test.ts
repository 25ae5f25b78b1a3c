import { resolveRange } from './byte-range';
import { InvalidRangeError, RangeNotSatisfiableError } from './errors';

describe('resolveRange', () => {
  it.each([
    [undefined, 10, { start: 0, length: 10 }],
    [{ offset: 3 }, 10, { start: 3, length: 7 }],
    [{ offset: 3, length: 4 }, 10, { start: 3, length: 4 }],
    [{ offset: 8, length: 100 }, 10, { start: 8, length: 2 }],
    [{ offset: 10 }, 10, { start: 10, length: 0 }],
    [{ offset: 0 }, 0, { start: 0, length: 0 }],
  ])('resolves %j against size %d', (range, size, expected) => {
    expect(resolveRange(range, size)).toEqual(expected);
  });

  it('rejects an offset past the end with the offset and size', () => {
    expect(() => resolveRange({ offset: 11 }, 10)).toThrow(RangeNotSatisfiableError);
    expect(() => resolveRange({ offset: 11 }, 10)).toThrow(expect.objectContaining({ offset: 11, size: 10, code: 'OUT_OF_RANGE' }));
  });

  it.each([{ offset: -1 }, { offset: 1.5 }, { offset: 0, length: -2 }, { offset: Number.NaN }])('rejects %j', (range) => {
    expect(() => resolveRange(range, 10)).toThrow(InvalidRangeError);
  });
});
