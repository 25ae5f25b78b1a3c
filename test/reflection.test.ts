/**
 * Each service starts on port 0, reports SERVING, and its reflection answers
 * alone (v1 and v1alpha) let a client build a descriptor pool that resolves
 * every method's request and response types, chasing dependencies by file
 * name the way grpcurl does.
 */
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { health, reflectionV1, reflectionV1alpha } from '@griot/proto';
import { DB_KINDS } from '@griot/test/support/database';
import { startTestContentStore, startTestRegistry, type StartedService } from '@griot/test/support/services';

type Request = reflectionV1.ServerReflectionRequest;
type Response = reflectionV1.ServerReflectionResponse;

/** Sends one reflection request on an open stream and waits for its answer. */
function ask(stream: ClientDuplexStream<Request, Response>, request: Partial<Request>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const onData = (r: Response) => {
      stream.off('error', reject);
      resolve(r);
    };
    stream.once('data', onData);
    stream.once('error', reject);
    stream.write({ host: '', ...request } as Request);
  });
}

function filesOf(response: Response): FileDescriptorProto[] {
  if (response.messageResponse?.$case !== 'fileDescriptorResponse') {
    throw new Error(`expected files, got ${JSON.stringify(response.messageResponse)}`);
  }
  return response.messageResponse.fileDescriptorResponse.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

/** Builds a descriptor pool from reflection answers only, as grpcurl does. */
async function poolFromReflection(stream: ClientDuplexStream<Request, Response>, services: string[]) {
  const files = new Map<string, FileDescriptorProto>();
  const want: string[] = [];
  const add = (list: FileDescriptorProto[]) => {
    for (const f of list) {
      if (!files.has(f.name)) {
        files.set(f.name, f);
        want.push(...f.dependency);
      }
    }
  };
  for (const service of services) {
    // Keep only the first file of each answer, so dependencies must be chased by name.
    add(filesOf(await ask(stream, { messageRequest: { $case: 'fileContainingSymbol', fileContainingSymbol: service } })).slice(0, 1));
  }
  while (want.length > 0) {
    const name = want.pop()!;
    if (!files.has(name)) add(filesOf(await ask(stream, { messageRequest: { $case: 'fileByFilename', fileByFilename: name } })).slice(0, 1));
  }
  // A registry is built dependencies first.
  const ordered: FileDescriptorProto[] = [];
  const placed = new Set<string>();
  const place = (f: FileDescriptorProto) => {
    if (placed.has(f.name)) return;
    placed.add(f.name);
    for (const dep of f.dependency) place(files.get(dep)!);
    ordered.push(f);
  };
  for (const f of files.values()) place(f);
  return { files, registry: createFileRegistry(create(FileDescriptorSetSchema, { file: ordered })) };
}

const SERVICES = {
  registry: { start: (kind: (typeof DB_KINDS)[number]) => startTestRegistry(kind), api: 'griot.registry.v1.RegistryService' },
  'content store': { start: (kind: (typeof DB_KINDS)[number]) => startTestContentStore(kind), api: 'griot.content.v1.ContentService' },
};

describe.each(DB_KINDS)('on %s', (kind) => {
  describe.each(Object.entries(SERVICES))('the %s', (_label, { start, api }) => {
    let service: StartedService;
    beforeAll(async () => {
      service = await start(kind);
    });
    afterAll(() => service.stop());

    it('reports SERVING for the server and its API', async () => {
      const client = new health.HealthClient(service.address, credentials.createInsecure());
      const check = (name: string) =>
        new Promise<health.HealthCheckResponse>((resolve, reject) =>
          client.check({ service: name }, (err, res) => (err ? reject(err) : resolve(res))),
        );
      expect((await check('')).status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
      expect((await check(api)).status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
      await expect(check('no.such.Service')).rejects.toMatchObject({ code: 5 });
      client.close();
    });

    it.each([
      ['v1', reflectionV1.ServerReflectionClient],
      ['v1alpha', reflectionV1alpha.ServerReflectionClient],
    ] as const)('resolves every method from %s reflection answers alone', async (_version, Client) => {
      const client = new Client(service.address, credentials.createInsecure());
      const stream = client.serverReflectionInfo() as unknown as ClientDuplexStream<Request, Response>;
      // Errors reach the pending ask() through its own listener; this one keeps a late CANCELLED from crashing the run.
      stream.on('error', () => undefined);
      const listed = await ask(stream, { messageRequest: { $case: 'listServices', listServices: '' } });
      if (listed.messageResponse?.$case !== 'listServicesResponse') throw new Error('no service list');
      const names = listed.messageResponse.listServicesResponse.service.map((s) => s.name).sort();
      expect(names).toEqual([api, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'].sort());

      const { files, registry } = await poolFromReflection(stream, names);
      expect([...files.keys()]).toEqual(expect.arrayContaining(['google/protobuf/struct.proto', 'google/protobuf/timestamp.proto']));
      for (const name of names) {
        const service = registry.getService(name);
        expect(service).toBeDefined();
        expect(service!.methods.length).toBeGreaterThan(0);
        for (const method of service!.methods) {
          expect(registry.getMessage(method.input.typeName)).toBeDefined();
          expect(registry.getMessage(method.output.typeName)).toBeDefined();
        }
      }
      const unknown = await ask(stream, { messageRequest: { $case: 'fileContainingSymbol', fileContainingSymbol: 'no.such.Symbol' } });
      expect(unknown.messageResponse).toMatchObject({ $case: 'errorResponse', errorResponse: { errorCode: 5 } });
      // Half-closing ends the stream with OK once the answers are out, as grpcurl expects.
      const ended = new Promise<{ code: number }>((resolve) => stream.once('status', resolve));
      stream.write({ host: '', messageRequest: { $case: 'listServices', listServices: '' } } as Request);
      stream.end();
      const last = await new Promise<Response>((resolve) => stream.once('data', resolve));
      expect(last.messageResponse?.$case).toBe('listServicesResponse');
      expect((await ended).code).toBe(0);
      client.close();
    });
  });
});
