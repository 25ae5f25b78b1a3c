/**
 * The failing-write signal with a write probe: readiness stays false after a
 * disk-full failure until the probe writes again, and fileWriteProbe fails
 * exactly while its folder's disk is full (a real tmpfs, as root).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMountTmpfs, mountTmpfs, unmountTmpfs } from '@griot/test/support/tmpfs';
import { Code, GriotError } from './errors';
import { fileWriteProbe, WriteFailures, WRITE_PROBE_BYTES } from './readiness';

const diskFull = () => new GriotError(Code.RESOURCE_EXHAUSTED, 'STORAGE_FULL', 'the storage has no space left');

describe('WriteFailures with a write probe', () => {
  it('stays not ready past the hold while the probe fails, and is ready once it writes', async () => {
    let now = 0;
    let probeError: Error | undefined = new Error('ENOSPC: no space left on device');
    let probes = 0;
    const signal = new WriteFailures(10_000, () => now, async () => {
      probes += 1;
      if (probeError) throw probeError;
    });
    await expect(signal.check()).resolves.toBeUndefined();
    expect(probes).toBe(0);

    expect(signal.note(diskFull())).toBe(true);
    now = 5_000;
    await expect(signal.check()).rejects.toThrow(/a write failed 5 s ago: .*no space left/);
    // Within the hold the probe is not even asked.
    expect(probes).toBe(0);
    now = 60_000;
    await expect(signal.check()).rejects.toThrow(/a probe write still fails: ENOSPC/);
    await expect(signal.check()).rejects.toThrow(/a probe write still fails/);
    probeError = undefined;
    await expect(signal.check()).resolves.toBeUndefined();
    // Cleared: no more probes until the next failing write.
    const asked = probes;
    await expect(signal.check()).resolves.toBeUndefined();
    expect(probes).toBe(asked);
  });

  it('keeps a failure noted while its probe ran', async () => {
    let now = 20_000;
    let signal: WriteFailures | undefined = undefined;
    signal = new WriteFailures(10_000, () => now, async () => {
      now += 1;
      signal!.note(diskFull());
    });
    signal.note(diskFull());
    now = 40_000;
    await expect(signal.check()).resolves.toBeUndefined();
    await expect(signal.check()).rejects.toThrow(/a write failed 0 s ago/);
  });
});

describe('fileWriteProbe', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const newDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'griot-probe-'));
    dirs.push(d);
    return d;
  };

  it('writes in every folder (made when missing) and leaves nothing behind; a folder that cannot be made fails it', async () => {
    const a = newDir();
    const b = newDir();
    await expect(fileWriteProbe([a, join(b, 'later', 'blobs')])()).resolves.toBeUndefined();
    expect(readdirSync(a)).toEqual([]);
    expect(readdirSync(join(b, 'later', 'blobs'))).toEqual([]);
    writeFileSync(join(b, 'a-file'), 'x');
    await expect(fileWriteProbe([a, join(b, 'a-file', 'blobs')])()).rejects.toThrow(/ENOTDIR/);
  });

  if (canMountTmpfs()) {
    it('fails while the disk is full, and writes again once there is room', async () => {
      const dir = newDir();
      mountTmpfs(dir, '256k');
      try {
        // Fill it: writes fail once the tmpfs is full.
        let i = 0;
        try {
          for (; i < 1000; i++) writeFileSync(join(dir, `fill-${i}`), Buffer.alloc(WRITE_PROBE_BYTES / 4));
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
        }
        await expect(fileWriteProbe([dir])()).rejects.toThrow(/ENOSPC/);
        expect(readdirSync(dir).filter((f) => f.startsWith('.griot-write-probe'))).toEqual([]);
        for (const f of readdirSync(dir)) rmSync(join(dir, f));
        await expect(fileWriteProbe([dir])()).resolves.toBeUndefined();
      } finally {
        unmountTmpfs(dir);
      }
    });
  }
});
