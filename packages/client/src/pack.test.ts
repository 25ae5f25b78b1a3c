import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { packDirectory } from './pack';

function makePackage(root: string): string {
  const dir = join(root, 'pkg');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'lib', 'deep', 'a-very-long-directory-name-to-force-a-long-path-in-the-tar-header-xxxxxxxxxxxxxxxxxxxxxxx'), { recursive: true });
  writeFileSync(join(dir, 'griot.json'), JSON.stringify({ name: 'hello', version: '1.0.0', nodeClass: 'edge', dependencies: {} }));
  writeFileSync(join(dir, 'bin', 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'bin', 'run.sh'), 0o775);
  writeFileSync(join(dir, 'lib', 'b.txt'), 'b');
  writeFileSync(join(dir, 'lib', 'a.txt'), 'a');
  writeFileSync(join(dir, 'lib', 'deep', 'a-very-long-directory-name-to-force-a-long-path-in-the-tar-header-xxxxxxxxxxxxxxxxxxxxxxx', 'file-with-a-long-name.txt'), 'long');
  writeFileSync(join(dir, 'lib', 'été.txt'), 'unicode');
  return dir;
}

async function listEntries(file: string): Promise<Array<{ name: string; mode: number; mtime: number; uid: number; uname: string }>> {
  const out: Array<{ name: string; mode: number; mtime: number; uid: number; uname: string }> = [];
  const ex = extract();
  Readable.from([gunzipSync(readFileSync(file))]).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) {
    const h = entry.header;
    out.push({ name: h.name, mode: h.mode ?? -1, mtime: h.mtime?.getTime() ?? -1, uid: h.uid ?? -1, uname: h.uname ?? '' });
    entry.resume();
  }
  return out;
}

describe('packDirectory', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'griot-pack-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('gives identical bytes for the same folder, whatever the mtimes on disk', async () => {
    const dir = makePackage(root);
    const first = await packDirectory(dir, join(root, 'one.tgz'));
    utimesSync(join(dir, 'lib', 'a.txt'), new Date('2001-02-03'), new Date('2001-02-03'));
    utimesSync(join(dir, 'bin'), new Date('2011-02-03'), new Date('2011-02-03'));
    chmodSync(join(dir, 'lib', 'b.txt'), 0o600);
    const second = await packDirectory(dir, join(root, 'two.tgz'));
    expect(second.packageId).toBe(first.packageId);
    expect(readFileSync(join(root, 'two.tgz')).equals(readFileSync(join(root, 'one.tgz')))).toBe(true);
    expect(first.packageId).toBe(createHash('sha256').update(readFileSync(join(root, 'one.tgz'))).digest('hex'));
    expect(first.size).toBe(readFileSync(join(root, 'one.tgz')).length);
    expect(first.descriptor.name).toBe('hello');
  });

  it('changes when a file changes', async () => {
    const dir = makePackage(root);
    const first = await packDirectory(dir, join(root, 'one.tgz'));
    writeFileSync(join(dir, 'lib', 'a.txt'), 'A');
    const second = await packDirectory(dir, join(root, 'two.tgz'));
    expect(second.packageId).not.toBe(first.packageId);
  });

  it('writes sorted entries with normalized headers and a fixed gzip header', async () => {
    const dir = makePackage(root);
    const file = join(root, 'one.tgz');
    await packDirectory(dir, file);
    const gz = readFileSync(file);
    expect(gz.readUInt32LE(4)).toBe(0); // gzip mtime
    expect(gz[9]).toBe(3); // OS byte
    const entries = await listEntries(file);
    const names = entries.map((e) => e.name);
    expect(names).toEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(names).toContain('bin/run.sh');
    expect(names).toContain('lib/été.txt');
    expect(names.some((n) => n.endsWith('file-with-a-long-name.txt') && n.length > 100)).toBe(true);
    for (const e of entries) {
      expect(e.mtime).toBe(Date.UTC(1980, 0, 1));
      expect(e.uid).toBe(0);
      expect(e.uname).toBe('');
      expect([0o644, 0o755]).toContain(e.mode);
    }
    expect(entries.find((e) => e.name === 'bin/run.sh')?.mode).toBe(0o755);
    expect(entries.find((e) => e.name === 'lib/b.txt')?.mode).toBe(0o644);
  });

  it('refuses symbolic links and a missing griot.json', async () => {
    const dir = makePackage(root);
    symlinkSync('/etc/passwd', join(dir, 'lib', 'link'));
    await expect(packDirectory(dir, join(root, 'x.tgz'))).rejects.toThrow(/symbolic links/);
    rmSync(join(dir, 'griot.json'));
    await expect(packDirectory(dir, join(root, 'x.tgz'))).rejects.toThrow(/griot\.json/);
  });
});
