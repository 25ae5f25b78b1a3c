/**
 * gRPC server reflection (v1 and v1alpha) served from a FileDescriptorSet that
 * buf built with every import, so each answer carries a file and all the files
 * it depends on, down to google/protobuf/*.proto. grpcurl can then list,
 * describe and call every method with no .proto file at hand.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { reflectionV1 } from '@griot/proto';
import { Code } from './errors';
import type { ServiceHandlers } from './rpc';

/** The files of a descriptor set, indexed by file name and by symbol. */
export class DescriptorIndex {
  private readonly files = new Map<string, { proto: FileDescriptorProto; bytes: Uint8Array }>();
  private readonly symbols = new Map<string, string>();

  /** @param descriptorSet - A serialized google.protobuf.FileDescriptorSet. */
  constructor(descriptorSet: Uint8Array) {
    const set = fromBinary(FileDescriptorSetSchema, descriptorSet);
    for (const file of set.file) {
      this.files.set(file.name, { proto: file, bytes: toBinary(FileDescriptorProtoSchema, file) });
      const prefix = file.package ? `${file.package}.` : '';
      for (const message of file.messageType) this.indexMessage(prefix, message, file.name);
      for (const e of file.enumType) this.symbols.set(prefix + e.name, file.name);
      for (const service of file.service) {
        this.symbols.set(prefix + service.name, file.name);
        for (const method of service.method) this.symbols.set(`${prefix}${service.name}.${method.name}`, file.name);
      }
      for (const ext of file.extension) this.symbols.set(prefix + ext.name, file.name);
    }
  }

  private indexMessage(prefix: string, message: DescriptorProto, fileName: string): void {
    const name = prefix + message.name;
    this.symbols.set(name, fileName);
    for (const field of message.field) this.symbols.set(`${name}.${field.name}`, fileName);
    for (const nested of message.nestedType) this.indexMessage(`${name}.`, nested, fileName);
    for (const e of message.enumType) this.symbols.set(`${name}.${e.name}`, fileName);
  }

  /** Whether the set defines this fully qualified service name. */
  hasService(name: string): boolean {
    return this.symbols.has(name);
  }

  /** The file that defines a symbol, if any. */
  fileOfSymbol(symbol: string): string | undefined {
    return this.symbols.get(symbol.replace(/^\./, ''));
  }

  /** The serialized file and every file it depends on, transitively, the file first. */
  closure(fileName: string): Uint8Array[] | undefined {
    if (!this.files.has(fileName)) return undefined;
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const file = this.files.get(name);
      if (!file) return;
      out.push(file.bytes);
      for (const dep of file.proto.dependency) visit(dep);
    };
    visit(fileName);
    return out;
  }
}

type Request = reflectionV1.ServerReflectionRequest;
type Response = reflectionV1.ServerReflectionResponse;

/** Answers one reflection request. */
export function answerReflection(index: DescriptorIndex, services: string[], request: Request): Response {
  const base = { validHost: '', originalRequest: request };
  const files = (list: Uint8Array[] | undefined, what: string): Response =>
    list
      ? { ...base, messageResponse: { $case: 'fileDescriptorResponse', fileDescriptorResponse: { fileDescriptorProto: list.map((b) => Buffer.from(b)) } } }
      : { ...base, messageResponse: { $case: 'errorResponse', errorResponse: { errorCode: Code.NOT_FOUND, errorMessage: `${what} was not found` } } };
  const m = request.messageRequest;
  switch (m?.$case) {
    case 'listServices':
      return { ...base, messageResponse: { $case: 'listServicesResponse', listServicesResponse: { service: services.map((name) => ({ name })) } } };
    case 'fileByFilename':
      return files(index.closure(m.fileByFilename), `file ${m.fileByFilename}`);
    case 'fileContainingSymbol': {
      const file = index.fileOfSymbol(m.fileContainingSymbol);
      return files(file === undefined ? undefined : index.closure(file), `symbol ${m.fileContainingSymbol}`);
    }
    case 'fileContainingExtension':
      return files(undefined, `extension ${m.fileContainingExtension.extensionNumber} of ${m.fileContainingExtension.containingType}`);
    case 'allExtensionNumbersOfType': {
      if (index.fileOfSymbol(m.allExtensionNumbersOfType) === undefined) return files(undefined, `type ${m.allExtensionNumbersOfType}`);
      return { ...base, messageResponse: { $case: 'allExtensionNumbersResponse', allExtensionNumbersResponse: { baseTypeName: m.allExtensionNumbersOfType, extensionNumber: [] } } };
    }
    default:
      return { ...base, messageResponse: { $case: 'errorResponse', errorResponse: { errorCode: Code.INVALID_ARGUMENT, errorMessage: 'the request asks nothing' } } };
  }
}

/** Handlers of grpc.reflection.v1 (and, with the same shapes, v1alpha) ServerReflection. */
export function reflectionHandlers(index: DescriptorIndex, services: string[]): ServiceHandlers<typeof reflectionV1.ServerReflectionService> {
  return {
    async serverReflectionInfo(requests, _ctx, send) {
      for await (const request of requests) await send(answerReflection(index, services, request));
    },
  };
}
