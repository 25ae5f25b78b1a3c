/**
 * Every place Griot reaches past grpc-js's public API, in one package: the
 * server's HTTP/2 flow-control window, the stream buffer of a call, where a
 * server assembles the requests of a bulk upload, the
 * copy-free codecs of the two messages that carry bulk bytes, and the
 * hand-written HTTP/2 client of `ContentService/UploadBlob`, and responses
 * framed once for many calls. Each relies on
 * something grpc-js or Node does not promise, and each has a test here that
 * fails when an upgrade takes it away.
 * @packageDocumentation
 */
export { setServerFlowControlWindow, MAX_FLOW_CONTROL_WINDOW, DEFAULT_HTTP2_WINDOW } from './flow-control';
export { setCallStreamBuffer, type StreamSide } from './stream-buffer';
export { requestDeframer, canPlaceMessages, type RequestBuffers } from './request-deframer';
/** Content service codecs that copy bulk bytes as little as possible, and a client that uses them. */
export * as contentCodecs from './content-codecs';
/** UploadBlob over HTTP/2 without copying chunk bytes (the bulk upload path of TypeScript clients). */
export {
  UploadBlobClient,
  UploadBlobCall,
  type UploadBlobClientOptions,
  type UploadBlobClientTls,
  type UploadBlobCallOptions,
  type UploadBlobCallback,
} from './upload-blob-client';
/** Server responses framed once, however many calls send them (one log batch to many watchers). */
export { framedMessage, installFramedResponses } from './framed-responses';
