/**
 * The server kit both Griot services stand on.
 * @packageDocumentation
 */
export * from './config';
export * from './caller-auth';
export * from './logger';
export * from './log-serializers';
export * from './errors';
export * from './grpc-status';
export * from './rpc';
export * from './health';
export * from './reflection';
export * from './server';
export * from './start-service';
export * from './database';
export * from './embedded-postgres';
export * from './session-locks';
export * from './migrate';
export * from './migrate-command';
export * from './pagination';
export * from './keyset';
export * from './validators';
export * from './page-token-key';
export * from './used-tokens';
export * from './lifecycle';
export * from './tls';
export * from './sql-errors';
export * from './heap-growth';
export * from './metrics';
export * from './readiness';
export * from './admin';
export * from './tracing';
export * from './periodic';
