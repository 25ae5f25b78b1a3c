/**
 * The server kit both Griot services stand on.
 * @packageDocumentation
 */
export * from './config';
export * from './caller-auth';
export * from './logger';
export * from './errors';
export * from './grpc-status';
export * from './rpc';
export * from './health';
export * from './reflection';
export * from './server';
export * from './database';
export * from './session-locks';
export * from './migrate';
export * from './pagination';
export * from './lifecycle';
export * from './tls';
export * from './sql-errors';
export * from './flow-control';
export * from './heap-growth';
