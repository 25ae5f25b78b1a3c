import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { tarGz, type TarEntrySpec } from '@griot/test/support/tar-gz';
import { normalizeEntryName, safeExtract, UnsafeArchiveError } from './safe-extract';

describe('safeExtract', () => {
  let root: string;
  let dest: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'griot-extract-'));
    dest = join(root, 'a', 'b', 'dest');
    mkdirSync(dest, { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Everything under root except the destination folder. */
  function outsideDest(): string[] {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (p === dest) continue;
        if (e.isDirectory()) walk(p);
        else found.push(p);
      }
    };
    walk(root);
    return found;
  }

  it('extracts files and directories with normalized modes', async () => {
    const gz = await tarGz([
      { name: 'dir/', type: 'directory', mode: 0o700 },
      { name: './dir//x.txt', body: 'x', mode: 0o4777 },
      { name: 'y.txt', body: 'yy', mode: 0o600 },
    ]);
    const summary = await safeExtract(Readable.from([gz]), dest);
    expect(summary).toEqual({ files: 2, directories: 1, bytes: 3 });
    expect(readFileSync(join(dest, 'dir', 'x.txt'), 'utf8')).toBe('x');
    expect(readFileSync(join(dest, 'y.txt'), 'utf8')).toBe('yy');
  });

  const hostile: Array<[string, TarEntrySpec[], string, RegExp]> = [
    ['a parent segment', [{ name: '../../evil.txt', body: 'pwned' }], 'PARENT_SEGMENT', /"\.\.\/\.\.\/evil\.txt" has a "\.\." segment/],
    ['a parent segment in the middle', [{ name: 'ok/../../evil.txt', body: 'pwned' }], 'PARENT_SEGMENT', /"\.\." segment/],
    ['an absolute path', [{ name: `${'/tmp'}/griot-evil-${process.pid}.txt`, body: 'pwned' }], 'ABSOLUTE_PATH', /absolute path/],
    ['a symbolic link', [{ name: 'link', type: 'symlink', linkname: '../../..' }, { name: 'link/evil.txt', body: 'pwned' }], 'LINK', /symbolic link.*links are refused/],
    ['a hard link', [{ name: 'hard', type: 'link', linkname: '/etc/passwd' }], 'LINK', /hard link/],
    ['a character device', [{ name: 'tty', type: 'character-device', devmajor: 5, devminor: 0 }], 'SPECIAL_FILE', /character-device/],
    ['a block device', [{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }], 'SPECIAL_FILE', /block-device/],
    ['a FIFO', [{ name: 'pipe', type: 'fifo' }], 'SPECIAL_FILE', /fifo/],
    ['a duplicate entry', [{ name: 'a.txt', body: 'one' }, { name: './a.txt', body: 'two' }], 'DUPLICATE_ENTRY', /appears twice/],
    ['a backslash path', [{ name: '..\\..\\evil.txt', body: 'pwned' }], 'INVALID_NAME', /backslash/],
  ];

  it.each(hostile)('refuses %s and writes nothing outside', async (_label, specs, reason, message) => {
    const gz = await tarGz(specs);
    const err = await safeExtract(Readable.from([gz]), dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeArchiveError);
    expect((err as UnsafeArchiveError).reason).toBe(reason);
    expect((err as Error).message).toMatch(message);
    expect(outsideDest()).toEqual([]);
    expect(existsSync(`/tmp/griot-evil-${process.pid}.txt`)).toBe(false);
  });

  it('refuses too many entries', async () => {
    const gz = await tarGz(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, body: '' })));
    await expect(safeExtract(Readable.from([gz]), dest, { maxEntries: 5 })).rejects.toMatchObject({ reason: 'TOO_MANY_ENTRIES' });
  });

  it('refuses more unpacked bytes than allowed, before writing the entry', async () => {
    const gz = await tarGz([{ name: 'small', body: 'x' }, { name: 'big', body: Buffer.alloc(10_000, 1) }]);
    await expect(safeExtract(Readable.from([gz]), dest, { maxTotalBytes: 5000 })).rejects.toMatchObject({ reason: 'TOO_LARGE' });
    expect(existsSync(join(dest, 'big'))).toBe(false);
  });

  it('stops a decompression bomb early, while streaming', async () => {
    // A 4 GiB file of zeros, generated lazily: the test would take minutes if extraction did not stop early.
    const total = 4 * 1024 ** 3;
    const header = pack();
    const tarStream = new PassThrough();
    header.pipe(tarStream);
    const sink = header.entry({ name: 'zeros', size: total });
    const zeros = Buffer.alloc(1024 * 1024);
    let produced = 0;
    let stop = false;
    (async () => {
      while (produced < total && !stop) {
        produced += zeros.length;
        if (!sink.write(zeros)) await new Promise<void>((r) => sink.once('drain', () => r()));
      }
    })().catch(() => undefined);
    let compressedIn = 0;
    const source = tarStream.pipe(createGzip({ level: 9 })).pipe(
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          compressedIn += chunk.length;
          cb(null, chunk);
        },
      }),
    );
    const started = Date.now();
    const err = await safeExtract(source, dest, { maxTotalBytes: 8 * 1024 ** 3 }).catch((e: unknown) => e);
    stop = true;
    header.destroy();
    expect(err).toMatchObject({ reason: 'COMPRESSION_RATIO' });
    // The extractor read under 1 MiB of gzip; the generator, which runs ahead
    // through the stream buffers (further on a busy machine), stopped far below 4 GiB.
    expect(compressedIn).toBeLessThan(1024 * 1024);
    expect(produced).toBeLessThan(512 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('refuses garbage as corrupt', async () => {
    await expect(safeExtract(Readable.from([Buffer.from('not gzip at all')]), dest)).rejects.toMatchObject({ reason: 'CORRUPT' });
    writeFileSync(join(root, 'marker'), '');
  });
});

describe('normalizeEntryName', () => {
  it.each([
    ['a/b', 'a/b'],
    ['./a//b/', 'a/b'],
    ['dir/', 'dir'],
  ])('normalizes %s to %s', (input, output) => expect(normalizeEntryName(input)).toBe(output));

  it.each(['/etc/passwd', 'C:/x', '..', 'a/../../b', '', '.', 'a\0b'])('refuses %j', (name) => {
    expect(() => normalizeEntryName(name)).toThrow(UnsafeArchiveError);
  });
});
