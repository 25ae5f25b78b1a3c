import { canonicalizeJson, isJsonObject } from './json';

describe('canonicalizeJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and drops whitespace', () => {
    expect(canonicalizeJson({ b: 1, a: { d: [3, 'x'], c: null }, '\u20ac': 1, '\r': 2 })).toBe(
      '{"\\r":2,"a":{"c":null,"d":[3,"x"]},"b":1,"€":1}',
    );
  });

  it('serialises numbers the ECMAScript way', () => {
    expect(canonicalizeJson([1.0, 1e21, 0.000001, -0, 4.5e-7])).toBe('[1,1e+21,0.000001,0,4.5e-7]');
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['undefined', undefined],
  ])('rejects %s, which has no JSON form', (_case, value) => {
    expect(() => canonicalizeJson(value)).toThrow();
  });
});

describe('isJsonObject', () => {
  it.each([
    [{}, true],
    [[], false],
    [null, false],
    ['{}', false],
  ])('%j -> %s', (value, expected) => {
    expect(isJsonObject(value)).toBe(expected);
  });
});
