import { generateKeyPairSync, verify } from 'node:crypto';
import { createCallerToken } from './create-caller-token';
import { didFromKeyPair, resolveDid, verificationMethodId } from './did-key';
import { generateKeyPair } from './ed25519-keys';

const node = generateKeyPair();
const nodeDid = didFromKeyPair(node);
const now = new Date('2025-06-01T12:00:00.750Z');

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('createCallerToken', () => {
  it('issues an EdDSA JWT naming the node DID and its key', () => {
    const [header, payload] = createCallerToken({ keyPair: node, audience: 'griot.registry', now }).split('.');
    expect(decodePart(header as string)).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: verificationMethodId(nodeDid) });
    const claims = decodePart(payload as string);
    expect(claims).toMatchObject({ iss: nodeDid, sub: nodeDid, aud: 'griot.registry', iat: 1748779200, exp: 1748779260 });
    expect(claims['jti']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('signs header.payload with the key the iss DID resolves to', () => {
    const token = createCallerToken({ keyPair: node, audience: 'a' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const valid = verify(null, Buffer.from(`${header}.${payload}`), resolveDid(nodeDid), Buffer.from(signature, 'base64url'));
    expect(valid).toBe(true);
  });

  it('uses the requested lifetime', () => {
    const claims = decodePart(createCallerToken({ keyPair: node, audience: 'a', ttlSeconds: 5, now }).split('.')[1] as string);
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(5);
  });

  it('gives every token a fresh jti', () => {
    const jti = () => decodePart(createCallerToken({ keyPair: node, audience: 'a', now }).split('.')[1] as string)['jti'];
    expect(jti()).not.toBe(jti());
  });

  it('takes the DID from the private key, not from a mismatched public key', () => {
    const claims = decodePart(
      createCallerToken({ keyPair: { ...node, publicKey: generateKeyPair().publicKey }, audience: 'a' }).split('.')[1] as string,
    );
    expect(claims['iss']).toBe(nodeDid);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects ttlSeconds %p', (ttlSeconds) => {
    expect(() => createCallerToken({ keyPair: node, audience: 'a', ttlSeconds })).toThrow(RangeError);
  });

  it('rejects an empty audience and non-Ed25519 keys', () => {
    expect(() => createCallerToken({ keyPair: node, audience: '' })).toThrow(RangeError);
    expect(() => createCallerToken({ keyPair: generateKeyPairSync('x25519'), audience: 'a' })).toThrow(
      expect.objectContaining({ reason: 'UNSUPPORTED_KEY_TYPE' }),
    );
  });
});

describe('deprecated names', () => {
  it('createNodeToken is createCallerToken', async () => {
    const { createNodeToken } = await import('./create-caller-token');
    expect(createNodeToken).toBe(createCallerToken);
  });
});
