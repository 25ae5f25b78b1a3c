/**
 * TLS and mutual TLS from file paths, through a real GriotServer: a client
 * that trusts the CA gets in, one that trusts another CA does not, and with a
 * client CA configured a client without a certificate is refused.
 */
import { rmSync } from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import { health } from '@griot/proto';
import { clientCredentials, ConfigError, GriotServer, serverCredentials, silentLogger } from '@griot/server-kit';
import { makeTestCertificates, type TestCertificates } from '@griot/test/support/certificates';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

const f = (path: string, variable: string) => ({ path, variable });
const SERVER_NAMES = { cert: 'X_TLS_CERT', key: 'X_TLS_KEY', clientCa: 'X_TLS_CLIENT_CA' };
const CLIENT_NAMES = { ca: 'Y_TLS_CA', cert: 'Y_TLS_CERT', key: 'Y_TLS_KEY' };

async function check(address: string, creds: ReturnType<typeof credentials.createInsecure>): Promise<number> {
  const client = new health.HealthClient(address, creds);
  try {
    return await new Promise<number>((resolve, reject) =>
      client.check({ service: '' }, new Metadata(), { deadline: Date.now() + 3000 }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}

async function startServer(withClientCa: boolean): Promise<{ address: string; stop(): Promise<void> }> {
  const server = new GriotServer({
    logger: silentLogger(),
    domain: 'test',
    services: [],
    credentials: serverCredentials(
      {
        cert: f(certs.serverCert, 'X_TLS_CERT'),
        key: f(certs.serverKey, 'X_TLS_KEY'),
        clientCa: withClientCa ? f(certs.caCert, 'X_TLS_CLIENT_CA') : undefined,
      },
      SERVER_NAMES,
    ),
  });
  const port = await server.listen('127.0.0.1:0');
  return { address: `127.0.0.1:${port}`, stop: () => server.shutdown(500) };
}

describe('TLS', () => {
  it('serves clients that trust its CA and refuses plaintext and other CAs', async () => {
    const server = await startServer(false);
    try {
      expect(await check(server.address, clientCredentials({ ca: f(certs.caCert, 'Y_TLS_CA') }, CLIENT_NAMES))).toBe(1);
      await expect(check(server.address, clientCredentials({ ca: f(certs.otherCaCert, 'Y_TLS_CA') }, CLIENT_NAMES))).rejects.toMatchObject({ code: 14 });
      await expect(check(server.address, credentials.createInsecure())).rejects.toMatchObject({ code: 14 });
    } finally {
      await server.stop();
    }
  });

  it('with a client CA, requires a client certificate signed by it (mutual TLS)', async () => {
    const server = await startServer(true);
    try {
      const mutual = clientCredentials(
        { ca: f(certs.caCert, 'Y_TLS_CA'), cert: f(certs.clientCert, 'Y_TLS_CERT'), key: f(certs.clientKey, 'Y_TLS_KEY') },
        CLIENT_NAMES,
      );
      expect(await check(server.address, mutual)).toBe(1);
      await expect(check(server.address, clientCredentials({ ca: f(certs.caCert, 'Y_TLS_CA') }, CLIENT_NAMES))).rejects.toMatchObject({ code: 14 });
    } finally {
      await server.stop();
    }
  });

  it('names the variable of a missing or half-configured file', () => {
    expect(() => serverCredentials({ cert: f('/nonexistent.pem', 'X_TLS_CERT'), key: f(certs.serverKey, 'X_TLS_KEY') }, SERVER_NAMES)).toThrow(
      new ConfigError('X_TLS_CERT', 'cannot read /nonexistent.pem: ENOENT'),
    );
    expect(() => serverCredentials({ cert: f(certs.serverCert, 'X_TLS_CERT') }, SERVER_NAMES)).toThrow(/X_TLS_KEY: is required when X_TLS_CERT is set/);
    expect(() => clientCredentials({ cert: f(certs.clientCert, 'Y_TLS_CERT') }, CLIENT_NAMES)).toThrow(/Y_TLS_KEY: is required when Y_TLS_CERT is set/);
  });
});
