import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { didFromKeyPair, generateKeyPair } from '@griot/did';
import { ExitCode } from './cli-error';
import { checkTrust, parseTrustPolicy, readTrustPolicy, ruleFor, TrustPolicyError } from './trust-policy';

const [a, b, c, d] = Array.from({ length: 4 }, () => didFromKeyPair(generateKeyPair()));

describe('ruleFor', () => {
  const policy = parseTrustPolicy(
    {
      authors: {
        '*': [a],
        'lib*': [b],
        'libgreet': [c],
        '@acme/*': [d],
        '@acme/web-*': [b],
        'lib*x': [d],
        'tool*': [],
      },
    },
    'policy.json',
  );

  it.each([
    ['libgreet', 'libgreet', c], // the exact name beats every glob
    ['libother', 'lib*', b], // the longest literal prefix beats *
    ['libx', 'lib*x', d], // same prefix: more literal characters win
    ['@acme/web-ui', '@acme/web-*', b],
    ['@acme/db', '@acme/*', d],
    ['@other/db', '*', a], // * crosses the /
    ['hello', '*', a],
  ])('decides %s with %s', (name, pattern, author) => {
    expect(ruleFor(policy, name)).toEqual({ pattern, authors: [author] });
    expect(checkTrust(policy, name, author!).trusted).toBe(true);
  });

  it('does not merge the authors of broader patterns', () => {
    expect(checkTrust(policy, 'libgreet', a)).toEqual({ trusted: false, rule: { pattern: 'libgreet', authors: [c] } });
    expect(checkTrust(policy, 'libother', a).trusted).toBe(false);
  });

  it('trusts nobody for a name won by an empty list, or matched by no pattern', () => {
    expect(checkTrust(policy, 'toolbox', a)).toEqual({ trusted: false, rule: { pattern: 'tool*', authors: [] } });
    const narrow = parseTrustPolicy({ authors: { hello: [a] } }, 'p');
    expect(checkTrust(narrow, 'world', a)).toEqual({ trusted: false, rule: undefined });
  });

  it('takes . and other characters literally', () => {
    const dotted = parseTrustPolicy({ authors: { 'a.b*': [a] } }, 'p');
    expect(ruleFor(dotted, 'a.bc')?.pattern).toBe('a.b*');
    expect(ruleFor(dotted, 'axbc')).toBeUndefined();
  });

  it('breaks ties by sorting, not by file order', () => {
    for (const authors of [{ 'x*y*': [a], 'x*z*': [b] }, { 'x*z*': [b], 'x*y*': [a] }]) {
      expect(ruleFor(parseTrustPolicy({ authors }, 'p'), 'xyz')?.pattern).toBe('x*y*');
    }
  });
});

describe('parseTrustPolicy', () => {
  it.each([
    [[], /must be a JSON object/],
    [{}, /"authors" must be an object/],
    [{ authors: [] }, /"authors" must be an object/],
    [{ authors: {}, author: {} }, /unknown field "author"/],
    [{ authors: { 'Hello': [] } }, /authors\["Hello"\]: "Hello" is neither a package name nor a glob/],
    [{ authors: { 'a b*': [] } }, /neither a package name nor a glob/],
    [{ authors: { hello: 'did:key:x' } }, /authors\["hello"\] must be a list of did:key/],
    [{ authors: { hello: [7] } }, /authors\["hello"\]\[0\] must be a did:key string/],
    [{ authors: { hello: ['did:web:example.com'] } }, /authors\["hello"\]\[0\]: "did:web:example.com" is not an Ed25519 did:key/],
  ])('refuses %j in one line', (json, message) => {
    let thrown: unknown;
    try {
      parseTrustPolicy(json, 'trust.json');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TrustPolicyError);
    const error = thrown as TrustPolicyError;
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^trust policy trust\.json: /);
    expect(error.message).not.toContain('\n');
    expect(error.exitCode).toBe(ExitCode.USAGE);
  });

  it('keeps each author once', () => {
    expect(parseTrustPolicy({ authors: { '*': [a, a, b] } }, 'p').authors.get('*')).toEqual([a, b]);
  });
});

describe('readTrustPolicy', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'griot-trust-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file, and names a missing or broken one', async () => {
    const file = join(dir, 'trust.json');
    writeFileSync(file, JSON.stringify({ authors: { '*': [a] } }));
    expect((await readTrustPolicy(file)).authors.get('*')).toEqual([a]);
    await expect(readTrustPolicy(join(dir, 'missing.json'))).rejects.toThrow(/^trust policy .*missing\.json: no such file$/);
    writeFileSync(file, '{');
    await expect(readTrustPolicy(file)).rejects.toThrow(/trust\.json is not valid JSON/);
  });
});
