/**
 * Archives made in memory for tests: a .tar.gz from raw tar header specs,
 * hostile ones included (what `pack()` of tar-stream writes, gzipped).
 */
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';

/** One entry: its tar header fields (`name` at least) and its body, if any. */
export type TarEntrySpec = Partial<Header> & { name: string; body?: string | Buffer };

/** Builds a .tar.gz in memory from raw header specs, hostile ones included. */
export async function tarGz(specs: TarEntrySpec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c) => chunks.push(c as Buffer));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const { body, ...header } of specs) {
    await new Promise<void>((resolve, reject) =>
      body === undefined ? p.entry(header, (err) => (err ? reject(err) : resolve())) : p.entry(header, body, (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** A .tar.gz of regular files (name → content, mode 0644). */
export function filesTarGz(files: Record<string, string>): Promise<Buffer> {
  return tarGz(Object.entries(files).map(([name, body]) => ({ name, mode: 0o644, body })));
}
