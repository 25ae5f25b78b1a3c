/**
 * The tus baseline of the content store benchmarks, run as a process of its
 * own: @tus/server with @tus/file-store under `BENCH_TUS_DIR`, the peer a
 * user would pick for resumable uploads of large files.
 */
import { createServer } from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const tus = new Server({ path: '/files', datastore: new FileStore({ directory: process.env.BENCH_TUS_DIR ?? './tus-uploads' }) });
const http = createServer((req, res) => void tus.handle(req, res));
http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ msg: 'listening', address: `127.0.0.1:${port}` })}\n`);
});
process.once('SIGTERM', () => http.close(() => process.exit(0)));
