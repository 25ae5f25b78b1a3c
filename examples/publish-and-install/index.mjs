// Publishes a package with @griot/client, finds it in the registry, reads it
// back from the content store (whole and verified, then a range), and asks
// for it to be installed on a node, following the job to its end.
//
//   GRIOT_REGISTRY=host:port GRIOT_CONTENT=host:port node index.mjs
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GriotClient, GriotClientError, generateIdentity } from '@griot/client';

const author = generateIdentity();
const node = generateIdentity();
const client = new GriotClient({
  registry: process.env.GRIOT_REGISTRY ?? '127.0.0.1:50051',
  content: process.env.GRIOT_CONTENT ?? '127.0.0.1:50052',
  identity: author, // every call carries a fresh caller token of the author
});

const dir = await mkdtemp(join(tmpdir(), 'griot-example-'));
try {
  await writeFile(join(dir, 'griot.json'), JSON.stringify({ name: 'hello', version: '1.0.0', nodeClass: 'edge' }));
  await writeFile(join(dir, 'hello.sh'), 'echo hello\n');

  // Pack, sign, check, upload and register.
  const published = await client.publish({ dir });
  console.log(`published ${published.name}@${published.version} ${published.packageId} (${published.size} bytes)`);

  const { packages } = await client.registry.listPackages({ name: 'hello' });
  console.log(`listed ${packages.map((p) => `${p.manifest?.name}@${p.manifest?.version}`).join(', ')}`);

  // A whole download is checked against its SHA-256; a range is not.
  let size = 0;
  for await (const chunk of client.content.download(published.packageId)) size += chunk.length;
  console.log(`downloaded ${size} bytes, verified`);
  const head = [];
  for await (const chunk of client.content.download(published.packageId, { offset: 0, limit: 2 })) head.push(chunk);
  console.log(`first bytes ${Buffer.concat(head).toString('hex')}`);

  // Errors carry the gRPC code and the server's details.
  try {
    await client.registry.getPackage({ packageId: '0'.repeat(64) });
  } catch (err) {
    if (!(err instanceof GriotClientError)) throw err;
    console.log(`getPackage of an unknown id: ${err.codeName}`);
  }

  // The node asks for the package; no agent runs here, so the job is cancelled and its log ends with that.
  const { installation } = await client.registry.createInstallation({ packageId: published.packageId, targetNodeId: node.did }, { identity: node });
  await client.registry.cancelInstallation({ jobId: installation.jobId, reason: 'example' }, { identity: node });
  for await (const event of client.registry.followInstallation(installation.jobId, { identity: node })) {
    if (event.kind === 'line') console.log(`  ${event.line}`);
    else console.log(`job ${event.statusName}`);
  }
} finally {
  client.close();
  await rm(dir, { recursive: true, force: true });
}
