/**
 * CRC32C (Castagnoli), the checksum GCS reports as `crc32c` and in the
 * `x-goog-hash` header, and that the client validates after every upload and
 * whole-object download.
 */

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
}

/**
 * CRC32C of `data`, as GCS encodes it: base64 of the 4-byte big-endian value.
 *
 * @param data - The bytes to checksum.
 */
export function crc32cBase64(data: Uint8Array): string {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}
