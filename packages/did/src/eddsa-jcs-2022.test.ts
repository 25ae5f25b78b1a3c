import vector from './test-vectors/eddsa-jcs-2022.json';
import { createVerifyData } from './eddsa-jcs-2022';
import { canonicalizeJson } from './json';

describe('eddsa-jcs-2022 hashing (spec vector)', () => {
  it('canonicalises the proof configuration and the document as the spec does', () => {
    expect(canonicalizeJson(vector.proofOptions)).toBe(vector.canonicalProofConfig);
    expect(canonicalizeJson(vector.unsecuredDocument)).toBe(vector.canonicalDocument);
  });

  it('hashes proof configuration first, then the document', () => {
    const hashData = Buffer.from(createVerifyData(vector.unsecuredDocument, vector.proofOptions));
    expect(hashData.toString('hex')).toBe(vector.hashDataHex);
    expect(hashData.subarray(0, 32).toString('hex')).toBe(vector.proofConfigHashHex);
    expect(hashData.subarray(32).toString('hex')).toBe(vector.documentHashHex);
  });

  it('changes the proof half when the proof configuration loses its @context', () => {
    const { '@context': _context, ...withoutContext } = vector.proofOptions;
    const hashData = Buffer.from(createVerifyData(vector.unsecuredDocument, withoutContext));
    expect(hashData.subarray(0, 32).toString('hex')).not.toBe(vector.proofConfigHashHex);
    expect(hashData.subarray(32).toString('hex')).toBe(vector.documentHashHex);
  });
});
