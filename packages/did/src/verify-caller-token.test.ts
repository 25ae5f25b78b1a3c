import { createHmac, sign, type KeyObject } from 'node:crypto';
import { encodeJsonPart } from './compact-jws';
import { createCallerToken } from './create-caller-token';
import { DidError } from './did-error';
import { didFromKeyPair, verificationMethodId } from './did-key';
import { generateKeyPair } from './ed25519-keys';
import { invalidDids } from './test-vectors/invalid-dids';
import { TokenError } from './token-error';
import { verifyCallerToken } from './verify-caller-token';

const node = generateKeyPair();
const nodeDid = didFromKeyPair(node);
const other = generateKeyPair();
const otherDid = didFromKeyPair(other);
const audience = 'griot.registry';
const now = new Date('2025-06-01T12:00:00Z');
const iat = now.getTime() / 1000;

/** Signs arbitrary header and claims, to build tokens createCallerToken refuses to make. */
function signToken(header: Record<string, unknown>, claims: Record<string, unknown>, privateKey: KeyObject): string {
  const input = `${encodeJsonPart(header)}.${encodeJsonPart(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
}

const goodHeader = { alg: 'EdDSA', typ: 'JWT', kid: verificationMethodId(nodeDid) };
const goodClaims = { iss: nodeDid, sub: nodeDid, aud: audience, iat, exp: iat + 60, jti: 'f7f4e7a0-1' };

function reasonOf(token: string, options: Partial<Parameters<typeof verifyCallerToken>[1]> = {}): string {
  try {
    verifyCallerToken(token, { audience, now, ...options });
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(TokenError);
    expect(err).toBeInstanceOf(DidError);
    return (err as TokenError).reason;
  }
  throw new Error('expected verifyCallerToken to throw');
}

describe('verifyCallerToken', () => {
  it('accepts a token from createCallerToken and returns the node DID', () => {
    const token = createCallerToken({ keyPair: node, audience, now });
    expect(verifyCallerToken(token, { audience, now })).toEqual({
      did: nodeDid,
      jti: expect.any(String),
      issuedAt: iat,
      expiresAt: iat + 60,
    });
  });

  it('accepts an aud array that contains the audience, and a hand-built valid token', () => {
    expect(verifyCallerToken(signToken(goodHeader, { ...goodClaims, aud: ['x', audience] }, node.privateKey), { audience, now }).did).toBe(nodeDid);
    expect(verifyCallerToken(signToken(goodHeader, goodClaims, node.privateKey), { audience, now }).did).toBe(nodeDid);
  });

  it('rejects a token signed by a key other than the iss DID with BAD_SIGNATURE', () => {
    expect(reasonOf(signToken(goodHeader, goodClaims, other.privateKey))).toBe('BAD_SIGNATURE');
  });

  it('checks the signature before trusting a changed claim', () => {
    const [header, , signature] = createCallerToken({ keyPair: node, audience: 'elsewhere', now }).split('.');
    const forgedPayload = encodeJsonPart({ ...goodClaims, aud: audience });
    expect(reasonOf(`${header}.${forgedPayload}.${signature}`)).toBe('BAD_SIGNATURE');
  });

  it.each([
    ['none', ''],
    ['HS256', createHmac('sha256', 'secret').update('x').digest('base64url')],
    ['ES256', Buffer.alloc(64, 3).toString('base64url')],
    [undefined, Buffer.alloc(64, 3).toString('base64url')],
  ])('rejects alg %p with UNSUPPORTED_ALGORITHM', (alg, signature) => {
    const token = `${encodeJsonPart({ ...goodHeader, alg })}.${encodeJsonPart(goodClaims)}.${signature}`;
    expect(reasonOf(token)).toBe('UNSUPPORTED_ALGORITHM');
  });

  it('rejects a token for another audience', () => {
    expect(reasonOf(createCallerToken({ keyPair: node, audience: 'griot.content-store', now }))).toBe('WRONG_AUDIENCE');
    expect(reasonOf(signToken(goodHeader, { ...goodClaims, aud: ['griot.content-store'] }, node.privateKey))).toBe('WRONG_AUDIENCE');
  });

  it('rejects a sub that is not the iss, even when correctly signed', () => {
    expect(reasonOf(signToken(goodHeader, { ...goodClaims, sub: otherDid }, node.privateKey))).toBe('ISSUER_SUBJECT_MISMATCH');
  });

  describe('time', () => {
    const token = createCallerToken({ keyPair: node, audience, now, ttlSeconds: 60 });
    const at = (offsetSeconds: number) => new Date(now.getTime() + offsetSeconds * 1000);

    it('accepts the token until exp exactly, skew or not, then reports TOKEN_EXPIRED', () => {
      expect(verifyCallerToken(token, { audience, now: at(59) }).did).toBe(nodeDid);
      expect(reasonOf(token, { now: at(60) })).toBe('TOKEN_EXPIRED');
      expect(reasonOf(token, { now: at(61), maxSkewSeconds: 600 })).toBe('TOKEN_EXPIRED');
      expect(reasonOf(token, { now: at(60), maxSkewSeconds: 0 })).toBe('TOKEN_EXPIRED');
    });

    it('never accepts a token dated in the future after iat + the maximum lifetime', () => {
      // Dated 30 s ahead (within the skew) and living the whole 300 s.
      const ahead = createCallerToken({ keyPair: node, audience, now: at(30), ttlSeconds: 300 });
      expect(verifyCallerToken(ahead, { audience, now }).did).toBe(nodeDid);
      expect(verifyCallerToken(ahead, { audience, now: at(329) }).did).toBe(nodeDid);
      expect(reasonOf(ahead, { now: at(330) })).toBe('TOKEN_EXPIRED');
      // Dated beyond the skew: refused at once.
      expect(reasonOf(createCallerToken({ keyPair: node, audience, now: at(31), ttlSeconds: 60 }), { now })).toBe('TOKEN_NOT_YET_VALID');
    });

    it('accepts an iat up to the skew in the future, then reports TOKEN_NOT_YET_VALID', () => {
      expect(verifyCallerToken(token, { audience, now: at(-30) }).did).toBe(nodeDid);
      expect(reasonOf(token, { now: at(-31) })).toBe('TOKEN_NOT_YET_VALID');
      expect(reasonOf(token, { now: at(-5), maxSkewSeconds: 0 })).toBe('TOKEN_NOT_YET_VALID');
    });

    it('honours nbf', () => {
      const withNbf = signToken(goodHeader, { ...goodClaims, nbf: iat + 45 }, node.privateKey);
      expect(reasonOf(withNbf)).toBe('TOKEN_NOT_YET_VALID');
      expect(verifyCallerToken(withNbf, { audience, now: at(15) }).did).toBe(nodeDid);
    });

    it('rejects lifetimes over the maximum with TOKEN_LIFETIME_TOO_LONG', () => {
      expect(verifyCallerToken(createCallerToken({ keyPair: node, audience, now, ttlSeconds: 300 }), { audience, now }).did).toBe(nodeDid);
      expect(reasonOf(createCallerToken({ keyPair: node, audience, now, ttlSeconds: 301 }))).toBe('TOKEN_LIFETIME_TOO_LONG');
      expect(reasonOf(token, { maxTtlSeconds: 59 })).toBe('TOKEN_LIFETIME_TOO_LONG');
    });

    it('uses the real clock by default', () => {
      expect(verifyCallerToken(createCallerToken({ keyPair: node, audience }), { audience }).did).toBe(nodeDid);
      expect(reasonOf(token, { now: undefined })).toBe('TOKEN_EXPIRED');
    });
  });

  it.each<[string, string]>([
    ['garbage', 'not-a-token'],
    ['an empty string', ''],
    ['a missing jti', signToken(goodHeader, { ...goodClaims, jti: undefined }, node.privateKey)],
    ['a missing sub', signToken(goodHeader, { ...goodClaims, sub: undefined }, node.privateKey)],
    ['a string iat', signToken(goodHeader, { ...goodClaims, iat: String(iat) }, node.privateKey)],
    ['a fractional exp', signToken(goodHeader, { ...goodClaims, exp: iat + 0.5 }, node.privateKey)],
    ['exp before iat', signToken(goodHeader, { ...goodClaims, exp: iat - 1 }, node.privateKey)],
    ['a numeric aud', signToken(goodHeader, { ...goodClaims, aud: 7 }, node.privateKey)],
    ['an empty aud array', signToken(goodHeader, { ...goodClaims, aud: [] }, node.privateKey)],
    ['a missing kid', signToken({ alg: 'EdDSA', typ: 'JWT' }, goodClaims, node.privateKey)],
    ['a kid of another key', signToken({ ...goodHeader, kid: verificationMethodId(otherDid) }, goodClaims, node.privateKey)],
    ['another typ', signToken({ ...goodHeader, typ: 'at+jwt' }, goodClaims, node.privateKey)],
    ['a crit header', signToken({ ...goodHeader, crit: ['exp'] }, goodClaims, node.privateKey)],
    ['a truncated signature', createCallerToken({ keyPair: node, audience, now }).slice(0, -4)],
  ])('rejects %s with MALFORMED_TOKEN', (_case, token) => {
    expect(reasonOf(token)).toBe('MALFORMED_TOKEN');
  });

  it.each(invalidDids)('rejects an iss with %s with MALFORMED_TOKEN', (_case, did) => {
    const token = signToken({ ...goodHeader, kid: `${did}#x` }, { ...goodClaims, iss: did, sub: did }, node.privateKey);
    expect(reasonOf(token)).toBe('MALFORMED_TOKEN');
  });

  it('says which DID problem made the issuer unusable', () => {
    const x25519Did = invalidDids.find(([, , reason]) => reason === 'UNSUPPORTED_MULTICODEC')?.[1] as string;
    const token = signToken(goodHeader, { ...goodClaims, iss: x25519Did, sub: x25519Did }, node.privateKey);
    expect(() => verifyCallerToken(token, { audience, now })).toThrow(/UNSUPPORTED_MULTICODEC/);
  });
});
