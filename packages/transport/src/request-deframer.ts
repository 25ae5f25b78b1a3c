/**
 * Where a grpc-js server assembles the request messages of one method.
 *
 * grpc-js collects each message's HTTP/2 reads in a list and `Buffer.concat`s
 * them into a fresh buffer per message (its `StreamDecoder`), so a server
 * that then copies a message's bulk bytes into buffers of its own (aligned
 * for direct I/O, say) copies every byte twice and leaves a large buffer per
 * message to the garbage collector. This deframer assembles each message of
 * the method once, into a buffer the service allocates, laid out so that the
 * bytes of one length-delimited field (`dataField`, the bulk bytes) start
 * exactly `headroom` bytes into it: with page-aligned buffers and a
 * page-sized headroom, the bytes arrive where a direct write can take them.
 * The message itself is unchanged (the same framed bytes, only placed), so
 * grpc-js decompresses and deserializes it as it would any other. Messages
 * it cannot place so (compressed, smaller than `minBytes`, or whose fields
 * before `dataField` outgrow the headroom) are assembled into a plain buffer,
 * in one copy.
 *
 * It reaches two grpc-js internals: the server's interceptors run with the
 * call grpc-js built (`BaseServerInterceptingCall`, the innermost), and that
 * call's `decoder`, whose `write(chunk)` answers the framed messages that
 * chunk completes. The interceptor checks that the decoder is there and
 * leaves the call alone otherwise; the test beside this file fails when a
 * grpc-js upgrade takes it away.
 */
import type { ServerInterceptingCall, ServerInterceptor } from '@grpc/grpc-js';

/** Where a {@link requestDeframer} puts a method's messages. */
export interface RequestBuffers {
  /** The full method path, such as `/griot.content.v1.ContentService/UploadBlob`. */
  path: string;
  /** The field number of the bulk bytes (a `bytes` field). */
  dataField: number;
  /** Where in a buffer from `allocate` the bulk bytes start; the fields before them go just before. */
  headroom: number;
  /** Messages smaller than this (framing excluded) are assembled the plain way. */
  minBytes?: number;
  /** A buffer of at least `size` bytes for one message; it is the caller's again once the message is handled. */
  allocate(size: number): Buffer;
}

/** The part of grpc-js's per-call state this module relies on. */
interface CallInternals {
  decoder?: { write?: unknown; maxReadMessageLength?: unknown };
}

/** The gRPC frame header: a compressed flag and a 4-byte length. */
const FRAME_HEADER = 5;

/**
 * A server interceptor that has each message of `buffers.path` assembled into
 * a buffer from `buffers.allocate`, with the bulk field at `headroom`. Give
 * it to the grpc-js `Server` (its `interceptors` option), first.
 */
export function requestDeframer(buffers: RequestBuffers): ServerInterceptor {
  return (method, call) => {
    if (method.path === buffers.path) placeMessages(call, buffers);
    return call as ServerInterceptingCall;
  };
}

/** Swaps the call's decoder for a {@link PlacingDecoder}; a call without the decoder this relies on is left as it is. */
function placeMessages(call: object, buffers: RequestBuffers): void {
  const internals = call as CallInternals;
  const decoder = internals.decoder;
  if (!decoder || typeof decoder.write !== 'function' || typeof decoder.maxReadMessageLength !== 'number') return;
  internals.decoder = new PlacingDecoder(decoder.maxReadMessageLength, buffers);
}

/** True when {@link requestDeframer} can place messages on this grpc-js's calls (what its test checks). */
export function canPlaceMessages(call: object): boolean {
  const decoder = (call as CallInternals).decoder;
  return !!decoder && typeof decoder.write === 'function' && typeof decoder.maxReadMessageLength === 'number';
}

/** What is known of the fields before the bulk bytes of a message. */
type Prefix = { found: true; length: number } | { found: false; more: boolean };

/**
 * Finds where `field`'s bytes start among a message's first bytes: the
 * length of the fields before them plus its own tag and length (`found`), or
 * that more bytes are needed (`more`), or that they cannot be found in these
 * bytes (neither).
 */
function findField(bytes: Buffer, end: number, field: number): Prefix {
  let at = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (at >= end) return undefined;
      const b = bytes[at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    return -1;
  };
  while (at < end) {
    const tag = varint();
    if (tag === undefined) return { found: false, more: true };
    const wire = tag % 8;
    if (wire === 0) {
      const v = varint();
      if (v === undefined) return { found: false, more: true };
      if (v < 0) return { found: false, more: false };
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined) return { found: false, more: true };
      if (length < 0) return { found: false, more: false };
      if (Math.floor(tag / 8) === field) return { found: true, length: at };
      at += length;
    } else {
      return { found: false, more: false };
    }
  }
  return { found: false, more: true };
}

/**
 * grpc-js's StreamDecoder, with each message assembled in one copy, in
 * place: `write(chunk)` answers the framed messages (header included) that
 * the chunk completes.
 */
export class PlacingDecoder {
  private readonly header = Buffer.alloc(FRAME_HEADER);
  private headerFill = 0;
  /** The message being assembled: its framed bytes are `target[start, start + FRAME_HEADER + length)`. */
  private target: Buffer | undefined;
  private start = 0;
  private fill = 0;
  private length = 0;
  /** Until the bulk field is found: the framed bytes so far, in a small buffer of the headroom's size. */
  private scratch: Buffer | undefined;
  private readonly minBytes: number;

  constructor(
    readonly maxReadMessageLength: number,
    private readonly buffers: RequestBuffers,
  ) {
    this.minBytes = buffers.minBytes ?? 64 * 1024;
  }

  write(data: Buffer): Buffer[] {
    const messages: Buffer[] = [];
    let at = 0;
    while (at < data.length) {
      if (this.headerFill < FRAME_HEADER) {
        const n = Math.min(FRAME_HEADER - this.headerFill, data.length - at);
        data.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill === FRAME_HEADER) this.begin();
        if (this.headerFill === FRAME_HEADER && this.length === 0) messages.push(this.finish());
        continue;
      }
      const framed = FRAME_HEADER + this.length;
      const n = Math.min(framed - this.fill, data.length - at);
      if (this.scratch) {
        const room = Math.min(n, this.scratch.length - this.fill);
        data.copy(this.scratch, this.fill, at, at + room);
        this.fill += room;
        at += room;
        this.placeScratch();
      } else {
        data.copy(this.target!, this.start + this.fill, at, at + n);
        this.fill += n;
        at += n;
      }
      if (this.fill === framed && !this.scratch) messages.push(this.finish());
    }
    return messages;
  }

  /** A frame header is in: checks the length and picks where the message goes. */
  private begin(): void {
    this.length = this.header.readUInt32BE(1);
    if (this.maxReadMessageLength !== -1 && this.length > this.maxReadMessageLength) {
      // grpc-js's own message: the call ends with RESOURCE_EXHAUSTED.
      throw new Error(`Received message larger than max (${this.length} vs ${this.maxReadMessageLength})`);
    }
    this.fill = FRAME_HEADER;
    if (this.header[0] === 0 && this.length > 0 && this.length >= this.minBytes) {
      this.scratch = Buffer.allocUnsafe(Math.min(this.buffers.headroom, FRAME_HEADER + this.length));
      this.header.copy(this.scratch, 0);
    } else {
      this.plain(this.header, FRAME_HEADER);
    }
  }

  /** Moves the scratch bytes to where they go, once the bulk field is found or cannot be. */
  private placeScratch(): void {
    const scratch = this.scratch!;
    const prefix = findField(scratch.subarray(FRAME_HEADER), this.fill - FRAME_HEADER, this.buffers.dataField);
    if (prefix.found) {
      const start = this.buffers.headroom - FRAME_HEADER - prefix.length;
      if (start >= 0) {
        this.scratch = undefined;
        this.start = start;
        this.target = this.buffers.allocate(start + FRAME_HEADER + this.length);
        scratch.copy(this.target, start, 0, this.fill);
        return;
      }
    } else if (prefix.more && this.fill < scratch.length) {
      return;
    }
    this.scratch = undefined;
    this.plain(scratch, this.fill);
  }

  /** Assembles the message in a plain buffer of its own, starting with `bytes[0, fill)`. */
  private plain(bytes: Buffer, fill: number): void {
    this.start = 0;
    this.target = Buffer.allocUnsafe(FRAME_HEADER + this.length);
    bytes.copy(this.target, 0, 0, fill);
  }

  /** The message is complete: answers its framed bytes and gets ready for the next header. */
  private finish(): Buffer {
    const message = this.target!.subarray(this.start, this.start + FRAME_HEADER + this.length);
    this.target = undefined;
    this.headerFill = 0;
    this.fill = 0;
    return message;
  }
}
