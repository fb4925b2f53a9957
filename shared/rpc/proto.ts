// The contracts in proto/, loaded at run time with @grpc/proto-loader (no generated code).
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { internal } from '../errors';

export type ProtoName = 'ca' | 'dispatcher' | 'raft';

/** The service each contract defines, by its full name. */
const SERVICES: Record<ProtoName, string> = {
  ca: 'shoal.ca.NodeCA',
  dispatcher: 'shoal.dispatcher.Dispatcher',
  raft: 'shoal.raft.RaftMembership',
};

/**
 * camelCase fields, enums as their names, int64 as JS numbers (periods and weights are far
 * below 2^53), defaults filled in, and a field naming the member set in each oneof.
 */
export const LOADER_OPTIONS: Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

/** proto/ sits next to shared/ in the source tree and one level above dist/. */
export function protoDir(): string {
  const candidates = [resolve(__dirname, '../../proto'), resolve(__dirname, '../../../proto')];
  const dir = candidates.find((d) => existsSync(join(d, 'ca.proto')));
  if (!dir) throw internal(`proto/ not found (looked in ${candidates.join(', ')})`);
  return dir;
}

const loaded = new Map<ProtoName, GrpcObject>();

export function loadProto(name: ProtoName): GrpcObject {
  let pkg = loaded.get(name);
  if (!pkg) {
    pkg = loadPackageDefinition(loadSync(join(protoDir(), `${name}.proto`), LOADER_OPTIONS));
    loaded.set(name, pkg);
  }
  return pkg;
}

export function serviceDefinition(name: ProtoName): ServiceDefinition {
  let node: unknown = loadProto(name);
  for (const part of SERVICES[name].split('.')) node = (node as Record<string, unknown>)[part];
  return (node as ServiceClientConstructor).service;
}
