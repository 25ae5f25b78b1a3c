import { ED25519_PRIV_CODEC, ED25519_PUB_CODEC, encodeMultikey } from '../multikey';

const key32 = new Uint8Array(32).fill(9);

/**
 * Invalid DIDs as `[case, did, expected reason]`, shared by the tests of
 * parseDid, parseVerificationMethod, verifyDocument and verifyCallerToken.
 */
export const invalidDids: ReadonlyArray<readonly [string, string, string]> = [
  ['another DID method', 'did:web:example.com', 'MALFORMED_DID'],
  ['an upper-case scheme', 'DID:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2', 'MALFORMED_DID'],
  ['an empty method-specific id', 'did:key:', 'MALFORMED_DID'],
  ['a versioned did:key', 'did:key:1:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2', 'MALFORMED_DID'],
  ['a path', 'did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2/keys', 'MALFORMED_DID'],
  ['an absurdly long DID', `did:key:z${'2'.repeat(300)}`, 'MALFORMED_DID'],
  ['a base64url multibase', 'did:key:u7QGVsbG8', 'INVALID_MULTIBASE'],
  ['base58 without the z prefix', 'did:key:6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2', 'INVALID_MULTIBASE'],
  ['characters outside base58', 'did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0', 'INVALID_MULTIBASE'],
  ['an X25519 key (spec example)', 'did:key:z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F', 'UNSUPPORTED_MULTICODEC'],
  ['a P-256 key (spec example)', 'did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169', 'UNSUPPORTED_MULTICODEC'],
  ['an X25519 key (0xec01)', `did:key:${encodeMultikey(0xec, key32)}`, 'UNSUPPORTED_MULTICODEC'],
  ['a P-256 key (0x1200)', `did:key:${encodeMultikey(0x1200, new Uint8Array(33))}`, 'UNSUPPORTED_MULTICODEC'],
  ['an Ed25519 private key', `did:key:${encodeMultikey(ED25519_PRIV_CODEC, key32)}`, 'UNSUPPORTED_MULTICODEC'],
  ['a 31-byte Ed25519 key', `did:key:${encodeMultikey(ED25519_PUB_CODEC, new Uint8Array(31))}`, 'INVALID_KEY_LENGTH'],
  ['a 33-byte Ed25519 key', `did:key:${encodeMultikey(ED25519_PUB_CODEC, new Uint8Array(33))}`, 'INVALID_KEY_LENGTH'],
];
