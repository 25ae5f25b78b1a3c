/**
 * `griot token --key FILE [--audience NAME] [--ttl SECONDS]`: prints a caller
 * token (an EdDSA JWT signed by the key's did:key), for calling the services
 * with other tools. A service accepts a token once: make one per call.
 * `grpcurl -H "authorization: Bearer $(griot token --key me.json --audience griot-content)" …`.
 * `--node FILE` is accepted as the key too.
 */
import { createCallerToken } from '@griot/did';
import { usageError } from '../cli-error';
import type { Command } from '../command';
import { loadCallerKey } from '../key-files';

/** The token command. */
export const tokenCommand: Command = {
  name: 'token',
  usage: 'token --key FILE [--audience griot-registry|griot-content] [--ttl SECONDS]',
  summary: "print a short-lived caller token (EdDSA JWT, good for one call) for other tools' authorization headers; --audience names the service (default griot-registry)",
  options: { key: { type: 'string', short: 'k' }, node: { type: 'string', short: 'n' }, ttl: { type: 'string' } },
  args: { min: 0, max: 0 },
  async run(ctx) {
    const keyPair = await loadCallerKey(ctx, 'the token is signed by that key', { node: true });
    const ttlText = ctx.string('ttl') ?? '60';
    const ttlSeconds = Number(ttlText);
    // The services refuse tokens that live longer than 5 minutes.
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 300) throw usageError(`--ttl must be a whole number of seconds from 1 to 300, not ${ttlText}`);
    const token = createCallerToken({ keyPair, audience: ctx.audience, ttlSeconds });
    ctx.result({ token, did: keyPair.did, audience: ctx.audience, ttlSeconds }, () => token);
  },
};
