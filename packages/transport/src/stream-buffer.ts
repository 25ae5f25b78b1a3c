/**
 * The Node stream buffer of a grpc-js call, which grpc-js gives no option
 * for: a server call is a Node Readable/Writable whose `highWaterMark` (in
 * objects, here messages) sits in `_readableState` / `_writableState`.
 */

/** Which side of a call: the requests it reads, or the responses it writes. */
export type StreamSide = '_readableState' | '_writableState';

/**
 * Sets how many messages one side of a grpc-js call holds (at least 1); a
 * call without that side is left alone, and `undefined` changes nothing.
 *
 * @param call - A grpc-js server call (any object shaped like a Node stream).
 * @param side - `_readableState` for requests, `_writableState` for responses.
 * @param messages - Messages to hold.
 */
export function setCallStreamBuffer(call: object, side: StreamSide, messages: number | undefined): void {
  if (messages === undefined) return;
  const state = (call as Record<string, { highWaterMark?: unknown } | undefined>)[side];
  if (state && typeof state.highWaterMark === 'number') state.highWaterMark = Math.max(1, messages);
}
