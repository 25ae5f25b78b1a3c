/**
 * Makes a throwaway CA, a server certificate for 127.0.0.1/localhost and a
 * client certificate, for TLS tests. Node.js makes the keys (EC P-256) and
 * the signatures; the certificates are DER encoded here (the few X.509 v3
 * fields TLS needs), so no openssl or other tool is needed.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths of the PEM files made. */
export interface TestCertificates {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting only it must fail. */
  otherCaCert: string;
}

// DER: tag, length, content.
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
const seq = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));
const octets = (b: Buffer) => der(0x04, b);
const bits = (b: Buffer, unused = 0) => der(0x03, Buffer.concat([Buffer.from([unused]), b]));
const bool = (v: boolean) => der(0x01, Buffer.from([v ? 0xff : 0]));
const explicit = (n: number, b: Buffer) => der(0xa0 + n, b);
function integer(b: Buffer): Buffer {
  return der(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const v of rest) {
    const groups = [v & 0x7f];
    for (let x = v >>> 7; x > 0; x >>>= 7) groups.unshift((x & 0x7f) | 0x80);
    out.push(...groups);
  }
  return der(0x06, Buffer.from(out));
}
function utcTime(d: Date): Buffer {
  const iso = d.toISOString(); // 2024-01-02T03:04:05.678Z
  return der(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`));
}
const commonName = (cn: string) => seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

interface Issued {
  cert: Buffer;
  key: KeyObject;
  keyId: Buffer;
  name: Buffer;
}

/** The key identifier of a public key: SHA-1 of its subjectPublicKey bits (RFC 5280 4.2.1.2, method 1). */
function keyIdOf(spki: Buffer): Buffer {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING }; for P-256 the key is the last 65 bytes.
  return createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
}

/**
 * A certificate for `cn`, signed by `issuer` (or by itself when there is none).
 * `usage`: a CA, or a leaf with its extended key usage and subject alternative names.
 */
function issue(cn: string, usage: { ca: true } | { ca: false; extendedKeyUsage: string; ips?: number[][]; dnsNames?: string[] }, issuer?: Issued): Issued {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const keyId = keyIdOf(spki);
  const name = commonName(cn);
  const now = Date.now();
  const extensions: Buffer[] = [
    extension('2.5.29.14', false, octets(keyId)),
    extension('2.5.29.35', false, seq(der(0x80, issuer?.keyId ?? keyId))),
  ];
  if (usage.ca) {
    extensions.push(extension('2.5.29.19', true, seq(bool(true))));
    // keyCertSign (bit 5) and cRLSign (bit 6): 0b00000110, one unused bit.
    extensions.push(extension('2.5.29.15', true, bits(Buffer.from([0x06]), 1)));
  } else {
    extensions.push(extension('2.5.29.19', true, seq()));
    // digitalSignature (bit 0): 0b10000000, seven unused bits.
    extensions.push(extension('2.5.29.15', true, bits(Buffer.from([0x80]), 7)));
    extensions.push(extension('2.5.29.37', false, seq(oid(usage.extendedKeyUsage))));
    const altNames = [...(usage.ips ?? []).map((ip) => der(0x87, Buffer.from(ip))), ...(usage.dnsNames ?? []).map((d) => der(0x82, Buffer.from(d)))];
    if (altNames.length > 0) extensions.push(extension('2.5.29.17', false, seq(...altNames)));
  }
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, and no leading zero byte (DER wants the shortest form)
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ECDSA_SHA256,
    issuer?.name ?? name,
    seq(utcTime(new Date(now - 60 * 60 * 1000)), utcTime(new Date(now + 2 * 24 * 60 * 60 * 1000))),
    name,
    spki,
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, issuer?.key ?? privateKey); // DER-encoded ECDSA-Sig-Value
  return { cert: seq(tbs, ECDSA_SHA256, bits(signature)), key: privateKey, keyId, name };
}

function pem(cert: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

/** Creates the certificates in a new temp folder. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'griot-certs-'));
  const write = (name: string, issued: Issued) => {
    writeFileSync(join(dir, `${name}.crt`), pem(issued.cert));
    writeFileSync(join(dir, `${name}.key`), issued.key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  };
  const ca = issue('ca', { ca: true });
  write('ca', ca);
  write('other-ca', issue('other-ca', { ca: true }));
  write('server', issue('server', { ca: false, extendedKeyUsage: SERVER_AUTH, ips: [[127, 0, 0, 1]], dnsNames: ['localhost'] }, ca));
  write('client', issue('client', { ca: false, extendedKeyUsage: CLIENT_AUTH }, ca));
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    otherCaCert: join(dir, 'other-ca.crt'),
  };
}
