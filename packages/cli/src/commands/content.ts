/**
 * `griot content put|get|ls|rm`: files in the content store, one manifest each.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { content } from '@griot/proto';
import { CONTENT_AUDIENCE, hashFile, readContent, uploadFile } from '../blob-transfer';
import { CliError, ExitCode, usageError } from '../cli-error';
import type { Command, CommandContext } from '../command';
import { unary } from '../grpc-call';
import { callerMetadata, loadCallerKey } from '../key-files';
import { createProgress, formatBytes } from '../progress';

/** The class UUID of files put with `griot content put` (class griot.file). */
export const FILE_CLASS_ID = '6f1b7c2e-8d4a-4b7e-9c3f-2a5e0d9b1f47';

const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.json': 'application/json',
  '.html': 'text/html',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.zip': 'application/zip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.pdf': 'application/pdf',
};

/** A MIME type guessed from a file name's extension. */
export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Parses repeated `--tag k=v` values into an object.
 *
 * @param values - The raw values.
 * @throws {@link CliError} (usage) for a value without `=` or with an empty key.
 */
export function parseTags(values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw usageError(`--tag ${JSON.stringify(v)} is not key=value`);
    tags[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return tags;
}

function tagsOption(ctx: CommandContext): Record<string, string> {
  const raw = ctx.options['tag'];
  return parseTags(Array.isArray(raw) ? raw : []);
}

function manifestJson(m: content.Manifest): Record<string, unknown> {
  return {
    id: m.id,
    createdAt: m.createdAt?.toISOString() ?? null,
    classId: m.classId,
    unpackerName: m.unpackerName,
    tags: m.tags ?? {},
    creatorDid: m.creatorDid,
    contents: m.contents.map((c) => ({ contentKey: c.contentKey, contentType: c.contentType, contentSize: c.contentSize, contentHash: c.contentHash })),
  };
}

/** `griot content put FILE [--tag k=v]…`. */
export const contentPutCommand: Command = {
  name: 'content put',
  usage: 'content put FILE --key FILE [--tag k=v]...',
  summary: 'upload a file (resuming an interrupted upload of it) and record a manifest created by your key; prints the manifest id',
  options: { tag: { type: 'string', multiple: true, short: 't' }, key: { type: 'string', short: 'k' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const file = resolve(ctx.args[0]!);
    const tags = { filename: basename(file), ...tagsOption(ctx) };
    const keyPair = await loadCallerKey(ctx, 'the content store lets only a caller with a key (one of CONTENT_WRITERS, when set) write');
    const digest = await hashFile(file);
    const progress = createProgress(ctx.io.stderr, digest.size, 'uploading');
    const upload = await uploadFile(ctx.clients, { path: file, digest, onProgress: (n) => progress.update(n), identity: keyPair });
    progress.finish();
    if (upload.resumedFrom > 0 && upload.resumedFrom < digest.size) ctx.info(`resumed the upload at ${formatBytes(upload.resumedFrom)}`);
    if (upload.deduplicated) ctx.info('the content store already holds these bytes');
    const client = ctx.clients.content();
    const res = await unary<content.CreateManifestResponse>(ctx.clients.contentEndpoint, (md, o, cb) =>
      client.createManifest(
        {
          classId: FILE_CLASS_ID,
          manifestId: '',
          unpackerName: 'griot.file@v1',
          tags,
          contents: [
            {
              contentKey: 'data',
              contentType: contentTypeFor(file),
              contentEncoding: '',
              serializerName: 'griot.bytes@v1',
              serializerConfig: undefined,
              serializerType: content.SerializerType.SERIALIZER_TYPE_STREAM,
              storageName: '',
              source: { $case: 'blobSha256', blobSha256: digest.sha256 },
            },
          ],
        },
        md,
        o,
        cb,
      ),
      callerMetadata(keyPair, CONTENT_AUDIENCE),
    );
    const id = res.manifest?.id ?? '';
    ctx.result({ manifestId: id, sha256: digest.sha256, size: digest.size, deduplicated: upload.deduplicated, resumedFrom: upload.resumedFrom }, () => id);
  },
};

/** `griot content get ID -o FILE`. */
export const contentGetCommand: Command = {
  name: 'content get',
  usage: 'content get MANIFEST_ID -o FILE',
  summary: "write the 'data' content of a manifest to FILE",
  options: { output: { type: 'string', short: 'o' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const manifestId = ctx.args[0]!;
    const file = resolve(ctx.required('output'));
    const partial = `${file}.griot-partial`;
    const out = createWriteStream(partial);
    const opened = new Promise<void>((res, rej) => {
      out.once('open', () => res());
      out.once('error', rej);
    });
    await opened;
    try {
      const size = await readContent(
        ctx.clients.content(),
        ctx.clients.contentEndpoint,
        { target: { $case: 'contentRef', contentRef: { manifestId, contentKey: 'data' } }, offset: 0, limit: 0 },
        (chunk) => (out.write(chunk) ? undefined : new Promise<void>((r) => out.once('drain', () => r()))),
      );
      await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
      await rename(partial, file);
      ctx.result({ manifestId, file, size }, () => {
        ctx.info(`wrote ${formatBytes(size)} to ${file}`);
        return file;
      });
    } catch (err: unknown) {
      out.destroy();
      await rm(partial, { force: true });
      throw err;
    }
  },
};

/** `griot content ls [--tag k=v]…`. */
export const contentLsCommand: Command = {
  name: 'content ls',
  usage: 'content ls [--tag k=v]... [--all]',
  summary: 'list the files put in the content store (--all: every manifest)',
  options: { tag: { type: 'string', multiple: true, short: 't' }, all: { type: 'boolean' } },
  args: { min: 0, max: 0 },
  async run(ctx) {
    const client = ctx.clients.content();
    const tags = tagsOption(ctx);
    const manifests: content.Manifest[] = [];
    let pageToken = '';
    do {
      const req: content.ListManifestsRequest = {
        tags: Object.keys(tags).length > 0 ? tags : undefined,
        classId: ctx.options['all'] === true ? '' : FILE_CLASS_ID,
        createdAfter: undefined,
        createdBefore: undefined,
        pageSize: 100,
        pageToken,
      };
      const res = await unary<content.ListManifestsResponse>(ctx.clients.contentEndpoint, (md, o, cb) => client.listManifests(req, md, o, cb));
      manifests.push(...res.manifests);
      pageToken = res.nextPageToken;
    } while (pageToken !== '');
    ctx.result({ manifests: manifests.map(manifestJson) }, () =>
      manifests.length === 0
        ? 'no manifest matches'
        : manifests.map((m) => {
            const size = m.contents.reduce((n, c) => n + c.contentSize, 0);
            const tagText = Object.entries((m.tags ?? {}) as Record<string, unknown>)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(' ');
            return `${m.id}  ${formatBytes(size).padStart(10)}  ${tagText}`;
          }),
    );
  },
};

/** `griot content rm ID`. */
export const contentRmCommand: Command = {
  name: 'content rm',
  usage: 'content rm MANIFEST_ID --key FILE',
  summary: 'delete a manifest you created (and the bytes nothing else references)',
  options: { key: { type: 'string', short: 'k' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const keyPair = await loadCallerKey(ctx, "only a manifest's creator or a content operator (CONTENT_OPERATORS) may delete it");
    const id = ctx.args[0]!;
    const client = ctx.clients.content();
    const res = await unary<content.DeleteManifestResponse>(
      ctx.clients.contentEndpoint,
      (md, o, cb) => client.deleteManifest({ id }, md, o, cb),
      callerMetadata(keyPair, CONTENT_AUDIENCE),
    );
    if (!res.manifest) throw new CliError(`manifest ${id} not found`, ExitCode.NOT_FOUND);
    ctx.result({ id, deletedSha256: res.deletedSha256 }, () => `deleted ${id}${res.deletedSha256.length > 0 ? ` and ${res.deletedSha256.length} blob(s)` : ''}`);
  },
};

