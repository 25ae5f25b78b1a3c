/**
 * `griot token --node FILE [--ttl SECONDS]`: prints a node identity token (an
 * EdDSA JWT signed by the node's did:key), for calling the registry's node
 * RPCs with other tools: `grpcurl -H "authorization: Bearer $(griot token --node node.json)" …`.
 */
import { createNodeToken } from '@griot/did';
import { usageError } from '../cli-error';
import type { Command } from '../command';
import { loadKey } from '../key-files';

/** The token command. */
export const tokenCommand: Command = {
  name: 'token',
  usage: 'token --node FILE [--ttl SECONDS]',
  summary: "print a short-lived node token (EdDSA JWT) for other tools' authorization headers",
  options: { node: { type: 'string' }, ttl: { type: 'string' } },
  args: { min: 0, max: 0 },
  async run(ctx) {
    const keyPair = await loadKey(ctx.required('node'), 'node');
    const ttlText = ctx.string('ttl') ?? '60';
    const ttlSeconds = Number(ttlText);
    // The registry refuses tokens that live longer than 5 minutes.
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 300) throw usageError(`--ttl must be a whole number of seconds from 1 to 300, not ${ttlText}`);
    const token = createNodeToken({ keyPair, audience: ctx.audience, ttlSeconds });
    ctx.result({ token, did: keyPair.did, audience: ctx.audience, ttlSeconds }, () => token);
  },
};
