/**
 * The blob sweeper: expires abandoned uploads (their staged bytes and record),
 * deletes blobs that nothing references once their pin has passed, and
 * finishes deletions a stopped process left half done. It runs at start and
 * then every configured interval; every step is safe to run concurrently
 * with requests and with other replicas' sweepers.
 */
import { Periodic } from '@griot/server-kit';
import { blobsRepository } from '../repository/blobs-repository';
import { uploadsRepository } from '../repository/uploads-repository';
import type { ContentDeps } from './content-deps';
import { deleteMarked } from './manifests';
import type { Uploads } from './uploads';

/** A deletion marked this long ago is presumed abandoned by its process. */
const STUCK_DELETION_MS = 60_000;
/** Rows handled per step and round. */
const BATCH = 500;

/** What one sweep did. */
export interface SweepReport {
  /** Upload sessions expired. */
  expiredUploads: number;
  /** Blobs deleted because nothing referenced them. */
  deletedBlobs: number;
  /** Deletions finished for a stopped process. */
  finishedDeletions: number;
}

/** Sweeps blobs and uploads: once on demand, and every interval once started. */
export class BlobSweeper {
  private readonly periodic = new Periodic(() => this.run());

  /**
   * @param deps - Database, storages, clock.
   * @param uploads - To leave uploads that are streaming right now alone.
   */
  constructor(
    private readonly deps: ContentDeps,
    private readonly uploads: Uploads,
  ) {}

  /** Sweeps once (a sweep already running is joined, not repeated). */
  sweep(): Promise<SweepReport> {
    return this.periodic.run();
  }

  /** Sweeps now in the background, then every `intervalMs`. */
  start(intervalMs: number): void {
    const tick = () => {
      this.sweep().then(
        (report) => {
          if (report.expiredUploads + report.deletedBlobs + report.finishedDeletions > 0) this.deps.logger.info(report, 'sweep');
        },
        (err: unknown) => this.deps.logger.warn({ err }, 'sweep failed; retrying at the next interval'),
      );
    };
    tick();
    this.periodic.every(intervalMs, tick);
  }

  /** Stops the timer and waits for a running sweep. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }

  private async run(): Promise<SweepReport> {
    const { db } = this.deps;
    const now = this.deps.clock();
    const stuck = await blobsRepository.findStuckDeletions(db, new Date(now.getTime() - STUCK_DELETION_MS), BATCH);
    const finishedDeletions = await deleteMarked(this.deps, stuck);

    let expiredUploads = 0;
    for (const upload of await uploadsRepository.findExpired(db, now, BATCH)) {
      // A stream writing it, in any replica, holds its lock: leave it alone.
      const held = await this.uploads.hold(upload.uploadId);
      if (!held) continue;
      try {
        // The record goes first: a client resuming from now on starts afresh
        // rather than writing into staging that is about to be removed.
        if (!(await uploadsRepository.removeIfExpired(db, upload.uploadId, now))) continue;
        expiredUploads += 1;
        if (upload.complete) continue;
        try {
          await this.deps.stores.get(upload.storageName).abortUpload(upload.uploadId);
        } catch (err) {
          this.deps.logger.warn({ err, uploadId: upload.uploadId }, 'could not remove the staged bytes of an expired upload');
        }
      } finally {
        await held.release();
      }
    }

    const candidates = await blobsRepository.findCollectable(db, now, BATCH);
    const marked = candidates.length === 0 ? [] : await db.transaction((trx) => blobsRepository.markUnreferenced(trx, candidates, now));
    const deletedBlobs = await deleteMarked(this.deps, marked);
    this.deps.metrics?.blobsSwept.inc(deletedBlobs);
    this.deps.metrics?.uploadsExpired.inc(expiredUploads);
    return { expiredUploads, deletedBlobs, finishedDeletions };
  }
}
