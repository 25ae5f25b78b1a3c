/**
 * Reproducible packing: the same folder always gives the same `.tar.gz`
 * bytes, whatever the files' mtimes, owners or umask on disk.
 *
 * Entries are sorted by path (byte order), every header has mtime
 * 1980-01-01, uid/gid 0, empty uname/gname, mode 0644 (files) or 0755
 * (directories and executables); names longer than ustar allows get a pax
 * header. The gzip header has mtime 0 and the OS byte fixed to 3 (Unix).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as createTarPack, type Header } from 'tar-stream';
import { PackageError } from './errors';
import { readDescriptor, type PackageDescriptor } from './package-descriptor';

/** The mtime of every entry: 1980-01-01T00:00:00Z (zip-safe, unlike the epoch). */
export const PACK_MTIME = new Date(Date.UTC(1980, 0, 1));

/** Names never packed, at any depth. */
export const PACK_IGNORED_NAMES: ReadonlySet<string> = new Set(['.git']);

/** The gzip OS byte written into every archive (3 = Unix), whatever the platform. */
const GZIP_OS_UNIX = 3;

/** One file or directory to pack. */
export interface PackEntry {
  /** The path inside the archive, `/`-separated, without a trailing slash. */
  readonly name: string;
  /** What it is. */
  readonly type: 'file' | 'directory';
  /** The absolute path on disk. */
  readonly path: string;
  /** The normalized mode: 0o644 or 0o755. */
  readonly mode: number;
  /** The size in bytes (0 for directories). */
  readonly size: number;
}

/** What {@link packDirectory} made. */
export interface PackResult {
  /** The package descriptor read from griot.json. */
  readonly descriptor: PackageDescriptor;
  /** The SHA-256 (lowercase hex) of the archive: the package id. */
  readonly packageId: string;
  /** The archive's size in bytes. */
  readonly size: number;
  /** Where the archive was written. */
  readonly file: string;
  /** The number of entries packed. */
  readonly entryCount: number;
}

function byteOrder(a: PackEntry, b: PackEntry): number {
  return Buffer.compare(Buffer.from(a.name, 'utf8'), Buffer.from(b.name, 'utf8'));
}

/**
 * Lists what packing `dir` puts in the archive, sorted. Symbolic links and
 * special files are refused rather than followed or skipped silently.
 *
 * @param dir - The folder to pack.
 * @throws {@link PackageError} for a symbolic link or a special file.
 */
export async function collectPackEntries(dir: string): Promise<PackEntry[]> {
  const entries: PackEntry[] = [];
  async function walk(abs: string, rel: string): Promise<void> {
    const children = await readdir(abs, { withFileTypes: true });
    for (const child of children) {
      if (PACK_IGNORED_NAMES.has(child.name)) continue;
      const childAbs = join(abs, child.name);
      const childRel = rel === '' ? child.name : `${rel}/${child.name}`;
      const stat = await lstat(childAbs);
      if (stat.isSymbolicLink()) {
        throw new PackageError(`cannot pack ${childAbs}: symbolic links are not allowed in packages`);
      } else if (stat.isDirectory()) {
        entries.push({ name: childRel, type: 'directory', path: childAbs, mode: 0o755, size: 0 });
        await walk(childAbs, childRel);
      } else if (stat.isFile()) {
        const mode = (stat.mode & 0o111) !== 0 ? 0o755 : 0o644;
        entries.push({ name: childRel, type: 'file', path: childAbs, mode, size: stat.size });
      } else {
        throw new PackageError(`cannot pack ${childAbs}: only regular files and directories can be packed`);
      }
    }
  }
  await walk(dir, '');
  return entries.sort(byteOrder);
}

function header(entry: PackEntry): Header {
  return {
    name: entry.type === 'directory' ? `${entry.name}/` : entry.name,
    type: entry.type,
    mode: entry.mode,
    size: entry.size,
    mtime: PACK_MTIME,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    linkname: '',
    devmajor: 0,
    devminor: 0,
  };
}

/** Sets the gzip header's OS byte (offset 9) so archives are the same on every platform. */
function fixGzipOsByte(): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (seen <= 9 && seen + chunk.length > 9) {
        chunk = Buffer.from(chunk);
        chunk[9 - seen] = GZIP_OS_UNIX;
      }
      seen += chunk.length;
      cb(null, chunk);
    },
  });
}

/**
 * Writes the reproducible `.tar.gz` of a list of entries to a writable.
 *
 * @param entries - From {@link collectPackEntries}.
 * @param destination - Where the gzip bytes go.
 */
export async function writeTarGz(entries: readonly PackEntry[], destination: Writable): Promise<void> {
  const tar = createTarPack();
  const produce = (async () => {
    for (const entry of entries) {
      await new Promise<void>((resolve, reject) => {
        const sink = tar.entry(header(entry), (err) => (err ? reject(err) : resolve()));
        if (entry.type === 'directory') return;
        const source = createReadStream(entry.path);
        source.on('error', (err) => {
          sink.destroy(err);
          reject(err);
        });
        source.pipe(sink as unknown as Writable);
      });
    }
    tar.finalize();
  })();
  produce.catch((err: unknown) => tar.destroy(err as Error));
  await Promise.all([produce, pipeline(tar, createGzip({ level: 9 }), fixGzipOsByte(), destination)]);
}

/** A writable that hashes and counts what goes through it, then passes it on. */
export class HashingWritable extends Writable {
  private readonly hash = createHash('sha256');
  /** Bytes written so far. */
  size = 0;

  /** @param target - Where the bytes go after hashing, if anywhere. */
  constructor(private readonly target?: Writable) {
    super();
    target?.on('error', (err) => this.destroy(err));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.target === undefined) return cb();
    if (this.target.write(chunk)) cb();
    else this.target.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.target === undefined) return cb();
    this.target.end(() => cb());
  }

  /** The lowercase hex SHA-256 of everything written; call once, after finishing. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Packs a package folder into a reproducible `.tar.gz` file.
 *
 * @param dir - The folder, holding a griot.json.
 * @param file - The archive to write (replaced if it exists).
 * @returns The descriptor, the package id (SHA-256 of the archive) and its size.
 * @throws {@link PackageError} for a missing or invalid griot.json, or an entry that cannot be packed.
 */
export async function packDirectory(dir: string, file: string): Promise<PackResult> {
  const descriptor = await readDescriptor(dir);
  const entries = await collectPackEntries(dir);
  const out = new HashingWritable(createWriteStream(file));
  await writeTarGz(entries, out);
  return { descriptor, packageId: out.digest(), size: out.size, file, entryCount: entries.length };
}
