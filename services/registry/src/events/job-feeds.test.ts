/**
 * JobFeeds against a stub repository and stub events: a job that gets more
 * lines than one read takes (2,000) and its final status between two reads
 * is followed to its last line before the final status ends the watch.
 */
import { silentLogger } from '@griot/server-kit';
import type { JobStatus } from '../domain/installation-state';
import type { InstallationEvents } from './installation-events';
import type { InstallationsRepository, LogSlice } from '../repository/installations-repository';
import { JobFeeds, type WatchEvent } from './job-feeds';

/** A job held in memory, read the way the repository reads it. */
function stubRepository(job: { status: JobStatus; statusMessage: string | null; lines: string[] }): InstallationsRepository {
  return {
    async readLogSlice(_jobId: string, from: number, to: number): Promise<LogSlice> {
      // A read takes time, as a query does: the feed's watchers run between two reads.
      await new Promise((resolve) => setImmediate(resolve));
      return { status: job.status, statusMessage: job.statusMessage, logCount: job.lines.length, lines: job.lines.slice(from, to) };
    },
  } as unknown as InstallationsRepository;
}

/** Events whose job notifications the test sends itself. */
function stubEvents(): { events: InstallationEvents; notify(): void } {
  const callbacks = new Set<() => void>();
  const events = {
    onJob(_jobId: string, callback: () => void) {
      callbacks.add(callback);
      return () => callbacks.delete(callback);
    },
  } as unknown as InstallationEvents;
  return { events, notify: () => callbacks.forEach((c) => c()) };
}

describe('JobFeeds', () => {
  it('gives every line of a job that completed with more lines than one read before its final status', async () => {
    const job = { status: 'running' as JobStatus, statusMessage: null as string | null, lines: ['first'] };
    const { events, notify } = stubEvents();
    const feeds = new JobFeeds(events, stubRepository(job), silentLogger());
    const watch = feeds.watch('job-1', 0, [new AbortController().signal]);
    const received: WatchEvent[] = [];
    const first = await watch.next();
    received.push(first.value as WatchEvent);
    // 4,500 more lines and the final status, all before the feed reads again.
    job.lines.push(...Array.from({ length: 4500 }, (_, i) => `line ${i}`));
    job.status = 'completed';
    job.statusMessage = 'done';
    notify();
    for await (const event of watch) received.push(event);

    const lines = received.flatMap((e) => e.lines);
    expect(lines).toEqual(job.lines);
    const last = received[received.length - 1]!;
    expect({ status: last.status, statusMessage: last.statusMessage }).toEqual({ status: 'completed', statusMessage: 'done' });
    // Only the last message carries the final status.
    expect(received.slice(0, -1).every((e) => e.status === 'running')).toBe(true);
    expect(feeds.size).toBe(0);
  });
});
