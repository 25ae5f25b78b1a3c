/**
 * Server responses framed once for every call that sends them. grpc-js
 * frames each message it sends on each call: a new buffer, the 5-byte gRPC
 * header, and a copy of the serialized bytes. A log batch sent to 1,000
 * watchers of a job is then copied, and later collected, 1,000 times, though
 * its bytes are the same for all of them.
 *
 * A serializer that returns the bytes of {@link framedMessage} (or of
 * {@link frameInPlace}, for a message built with room before it) hands grpc-js
 * a view whose gRPC frame header sits just before it in the same memory; the
 * server then writes that one framed buffer on every call, with no copy and
 * no allocation. Any other serialized message is framed as grpc-js does it.
 *
 * It replaces `BaseServerInterceptingCall.prototype.serializeMessage` (grpc-js
 * 1.10 and later, `build/src/server-interceptors.js`), the method every server
 * call frames its responses with, and throws if a grpc-js upgrade removes it,
 * so that the tests catch the loss.
 */
/** The part of a grpc-js server call this module relies on. */
interface ServerCallInternals {
  handler: { serialize(value: unknown): Buffer };
  serializeMessage(value: unknown): Buffer;
}

/** Payload views from {@link framedMessage}, each preceded in memory by its frame header. */
const framed = new WeakSet<Uint8Array>();
let installed = false;

/** The header of an uncompressed gRPC message of `length` bytes, at `at` in `target`. */
function writeHeader(target: Buffer, at: number, length: number): void {
  target[at] = 0;
  target.writeUInt32BE(length, at + 1);
}

/**
 * Makes grpc-js servers in this process send the messages of
 * {@link framedMessage} without framing them again. Idempotent.
 * @throws when grpc-js no longer has the method this replaces.
 */
export function installFramedResponses(): void {
  if (installed) return;
  // Required when first needed, not imported: clients bundle this package and never call it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const internals = require('@grpc/grpc-js/build/src/server-interceptors') as { BaseServerInterceptingCall?: { prototype: ServerCallInternals } };
  const proto = internals.BaseServerInterceptingCall?.prototype;
  if (!proto || typeof proto.serializeMessage !== 'function') {
    throw new Error('@grpc/grpc-js has no BaseServerInterceptingCall.prototype.serializeMessage; framedMessage cannot skip framing (see packages/transport/src/framed-responses.ts)');
  }
  proto.serializeMessage = function serializeMessage(this: ServerCallInternals, value: unknown): Buffer {
    const bytes = this.handler.serialize(value);
    if (framed.has(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset - 5, bytes.byteLength + 5);
    // What grpc-js does: compression of responses is not supported, so the flag byte is 0.
    const output = Buffer.allocUnsafe(bytes.byteLength + 5);
    writeHeader(output, 0, bytes.byteLength);
    output.set(bytes, 5);
    return output;
  };
  installed = true;
}

/**
 * `bytes` (a serialized message) as a view of a buffer that also holds its
 * gRPC frame header, for a response serializer to return: a server sends it,
 * to any number of calls, without another copy. Costs one copy of `bytes`.
 */
export function framedMessage(bytes: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafeSlow(bytes.byteLength + 5);
  frame.set(bytes, 5);
  return frameInPlace(frame.subarray(5));
}

/**
 * Frames `payload` (a serialized message) where it lies: writes its gRPC
 * frame header into the 5 bytes before it in the same memory, which the
 * caller keeps free, and answers `payload` for a response serializer to
 * return; a server sends it without copying it. The caller must not change
 * those bytes until the call's write of them is done.
 * @throws RangeError when fewer than 5 bytes of its memory come before `payload`.
 */
export function frameInPlace(payload: Buffer): Buffer {
  installFramedResponses();
  if (payload.byteOffset < 5) throw new RangeError(`frameInPlace needs 5 bytes before the message, and it starts at byte ${payload.byteOffset} of its memory`);
  writeHeader(Buffer.from(payload.buffer, payload.byteOffset - 5, 5), 0, payload.byteLength);
  framed.add(payload);
  return payload;
}
