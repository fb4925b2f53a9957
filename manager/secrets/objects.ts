// Secret and config objects: what the store keeps and what the API and the dispatcher show.
// A stored secret has its Spec without Data plus Sealed (the data under the cluster key); the
// API never returns the data; the dispatcher opens it for the nodes that run a task using it.
// A config keeps its Data in the Spec, in clear, as dockerd returns it.
import type { StoredObject } from '../store';
import { open, seal, type DataKey, type SealedData } from '../../shared/crypto/seal';
import type { PayloadSpec } from './spec';

export interface PayloadObjectSpec {
  Name: string;
  Labels: Record<string, string>;
  /** base64; configs only (in the store and the API), secrets only as sent to a node. */
  Data?: string;
}

export interface StoredPayload extends StoredObject {
  ID: string;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: PayloadObjectSpec;
  /** Secrets only. */
  Sealed?: SealedData;
}

/** What a secret's data is bound to: sealed data only opens for the secret it was made for. */
export const secretContext = (id: string) => `secret/${id}`;

export function newSecret(spec: PayloadSpec, id: string, now: Date, k: DataKey): StoredPayload {
  const at = now.toISOString();
  return { ID: id, CreatedAt: at, UpdatedAt: at, Spec: { Name: spec.Name, Labels: spec.Labels }, Sealed: seal(k, secretContext(id), spec.Data!) };
}

export function newConfig(spec: PayloadSpec, id: string, now: Date): StoredPayload {
  const at = now.toISOString();
  return { ID: id, CreatedAt: at, UpdatedAt: at, Spec: { Name: spec.Name, Labels: spec.Labels, Data: spec.Data!.toString('base64') } };
}

/** The object as the API shows it: a secret without its data or seal. */
export function payloadJson(o: StoredPayload): StoredObject {
  const { Sealed: _s, ...rest } = o;
  if (!o.Sealed) return rest;
  const { Data: _d, ...spec } = o.Spec;
  return { ...rest, Spec: spec };
}

/** A secret's data in clear. */
export function secretData(o: StoredPayload, k: DataKey): Buffer {
  return open(k, secretContext(o.ID), o.Sealed!);
}

/** A secret as a node receives it: the API's shape with Spec.Data (base64), no seal. */
export function openSecret(o: StoredPayload, k: DataKey): StoredObject {
  const { Sealed: _s, ...rest } = o;
  return { ...rest, Spec: { ...o.Spec, Data: secretData(o, k).toString('base64') } };
}

/** The data a spec carries equals the object's (configs: clear; secrets: opened). */
export function sameData(o: StoredPayload, data: Buffer, k?: DataKey): boolean {
  if (o.Sealed) return !!k && secretData(o, k).equals(data);
  return Buffer.from(o.Spec.Data ?? '', 'base64').equals(data);
}
