/**
 * The request bodies the README hands to grpcurl parse under the protobuf
 * JSON mapping (the one grpcurl uses), with the descriptors the services
 * serve by reflection: the `griot sign` output is a RegisterPackageRequest,
 * and the hand-written bodies name real fields.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileRegistry, fromBinary, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { readDescriptorSet } from '@griot/proto';
import { spawnTs, waitForExit } from '@griot/test/support/process';

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readDescriptorSet()));

function parse(typeName: string, json: JsonValue) {
  const schema = registry.getMessage(typeName);
  if (!schema) throw new Error(`no message ${typeName}`);
  return toJson(schema, fromJson(schema, json, { registry }), { registry });
}

it('accepts the README bodies with snake_case names and int64 as strings', () => {
  const sha = 'a'.repeat(64);
  expect(parse('griot.content.v1.UploadBlobRequest', { start: { sha256: sha, size: '12' }, offset: '0', data: Buffer.from('hello world!').toString('base64'), finish_write: true })).toEqual({
    start: { sha256: sha, size: '12' },
    data: Buffer.from('hello world!').toString('base64'),
    finishWrite: true,
  });
  expect(parse('griot.registry.v1.ListPackagesRequest', { manifest_contains: { nodeClass: 'edge' }, page_size: 10 })).toEqual({ manifestContains: { nodeClass: 'edge' }, pageSize: 10 });
  expect(parse('griot.registry.v1.CreateInstallationRequest', { package_id: sha, target_node_id: 'did:key:z6Mk' })).toEqual({ packageId: sha, targetNodeId: 'did:key:z6Mk' });
  expect(parse('griot.registry.v1.WatchInstallationRequest', { job_id: 'j', from_line: '0' })).toEqual({ jobId: 'j' });
  expect(parse('griot.registry.v1.ListPackageOwnersRequest', { name: 'hello' })).toEqual({ name: 'hello' });
  expect(parse('griot.registry.v1.YankPackageRequest', { package_id: sha, reason: 'prints the wrong greeting' })).toEqual({ packageId: sha, reason: 'prints the wrong greeting' });
  expect(() => parse('griot.registry.v1.ListPackagesRequest', { manifest_contain: {} })).toThrow(/manifest_contain/);
});

it('prints, with griot sign, a RegisterPackageRequest body', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'griot-readme-'));
  try {
    const key = join(dir, 'author.json');
    expect((await waitForExit(spawnTs('packages/cli/src/main.ts', {}, ['keygen', '--out', key]))).code).toBe(0);
    const pkg = join(dir, 'hello');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'griot.json'), JSON.stringify({ name: 'hello', version: '1.0.0', nodeClass: 'edge', dependencies: {} }));
    const signed = await waitForExit(spawnTs('packages/cli/src/main.ts', {}, ['sign', pkg, '--key', key, '-o', join(dir, 'hello.tgz')]));
    expect(signed.code).toBe(0);
    const body = JSON.parse(signed.stdout) as JsonValue;
    const parsed = parse('griot.registry.v1.RegisterPackageRequest', body) as { packageId: string; manifest: { name: string; proof: { cryptosuite: string } } };
    expect(parsed.packageId).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.manifest.name).toBe('hello');
    expect(parsed.manifest.proof.cryptosuite).toBe('eddsa-jcs-2022');
    expect(readFileSync(join(dir, 'hello.tgz')).length).toBeGreaterThan(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
