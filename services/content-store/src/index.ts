/**
 * The content store as a library: start it in-process (tests, the one-command launcher).
 * @packageDocumentation
 */
export * from './config';
export * from './server';
