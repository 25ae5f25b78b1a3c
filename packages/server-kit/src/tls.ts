/**
 * Transport security from file paths: TLS for a server (mutual TLS when a
 * client CA is given), and the matching credentials for a client. Plaintext
 * stays the default when no file is configured.
 */
import { readFileSync } from 'node:fs';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import { ConfigError } from './config';

/** Certificate files of a server, by the variables that named them. */
export interface ServerTlsFiles {
  /** PEM certificate chain of the server, and the variable that named it. */
  cert?: { path: string; variable: string };
  /** PEM private key of the server. */
  key?: { path: string; variable: string };
  /** PEM CA bundle that client certificates must chain to; set = mutual TLS. */
  clientCa?: { path: string; variable: string };
}

/** Certificate files of a client. */
export interface ClientTlsFiles {
  /** PEM CA bundle the server's certificate must chain to; set = TLS. */
  ca?: { path: string; variable: string };
  /** PEM client certificate chain, for mutual TLS. */
  cert?: { path: string; variable: string };
  /** PEM client private key, for mutual TLS. */
  key?: { path: string; variable: string };
}

function read(file: { path: string; variable: string }): Buffer {
  try {
    return readFileSync(file.path);
  } catch (err) {
    throw new ConfigError(file.variable, `cannot read ${file.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function pair(cert: ServerTlsFiles['cert'], key: ServerTlsFiles['key'], certVar: string, keyVar: string) {
  if (cert && !key) throw new ConfigError(keyVar, `is required when ${cert.variable} is set`);
  if (key && !cert) throw new ConfigError(certVar, `is required when ${key.variable} is set`);
  return cert && key ? { cert_chain: read(cert), private_key: read(key) } : undefined;
}

/** Whether any TLS file is configured. */
export function tlsEnabled(files: ServerTlsFiles | ClientTlsFiles): boolean {
  return Object.values(files).some((f) => f !== undefined);
}

/**
 * Server credentials: plaintext when nothing is set, TLS with cert and key,
 * mutual TLS (client certificates required) when a client CA is set too.
 */
export function serverCredentials(files: ServerTlsFiles, names: { cert: string; key: string; clientCa: string }): ServerCredentials {
  const keyCert = pair(files.cert, files.key, names.cert, names.key);
  if (!keyCert) {
    if (files.clientCa) throw new ConfigError(names.cert, `is required when ${files.clientCa.variable} is set`);
    return ServerCredentials.createInsecure();
  }
  const ca = files.clientCa ? read(files.clientCa) : null;
  return ServerCredentials.createSsl(ca, [keyCert], ca !== null);
}

/** Client credentials: plaintext when nothing is set, TLS with a CA, mutual TLS with a client cert and key too. */
export function clientCredentials(files: ClientTlsFiles, names: { ca: string; cert: string; key: string }): ChannelCredentials {
  const keyCert = pair(files.cert, files.key, names.cert, names.key);
  if (!files.ca && !keyCert) return ChannelCredentials.createInsecure();
  return ChannelCredentials.createSsl(files.ca ? read(files.ca) : null, keyCert?.private_key ?? null, keyCert?.cert_chain ?? null);
}

/** Reads an optional file variable into the `{ path, variable }` form. */
export function fileVar(env: NodeJS.ProcessEnv, variable: string): { path: string; variable: string } | undefined {
  const value = env[variable]?.trim();
  return value ? { path: value, variable } : undefined;
}

/** The three variables of a server's TLS settings, read with {@link vars.file}. */
export interface ServerTlsConfig {
  cert?: string;
  key?: string;
  clientCa?: string;
}

/**
 * Server credentials from a service's TLS variables (`<PREFIX>_TLS_CERT`,
 * `<PREFIX>_TLS_KEY`, `<PREFIX>_TLS_CLIENT_CA`).
 */
export function serverCredentialsFromConfig(prefix: string, tls: ServerTlsConfig): ServerCredentials {
  const names = { cert: `${prefix}_TLS_CERT`, key: `${prefix}_TLS_KEY`, clientCa: `${prefix}_TLS_CLIENT_CA` };
  const f = (path: string | undefined, variable: string) => (path ? { path, variable } : undefined);
  return serverCredentials({ cert: f(tls.cert, names.cert), key: f(tls.key, names.key), clientCa: f(tls.clientCa, names.clientCa) }, names);
}

/** The three variables of a client's TLS settings. */
export interface ClientTlsConfig {
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * Client credentials from TLS variables (`<PREFIX>_TLS_CA`, `<PREFIX>_TLS_CERT`,
 * `<PREFIX>_TLS_KEY`).
 */
export function clientCredentialsFromConfig(prefix: string, tls: ClientTlsConfig): ChannelCredentials {
  const names = { ca: `${prefix}_TLS_CA`, cert: `${prefix}_TLS_CERT`, key: `${prefix}_TLS_KEY` };
  const f = (path: string | undefined, variable: string) => (path ? { path, variable } : undefined);
  return clientCredentials({ ca: f(tls.ca, names.ca), cert: f(tls.cert, names.cert), key: f(tls.key, names.key) }, names);
}
