// The joining side of RaftMembership.Join: a node holding a manager certificate asks a manager
// to add it to the etcd group, and keeps what it is handed (the CA, the data key) in its swarm
// directory before its own manager starts. Under autolock it is handed the unlock key too, so
// that what it keeps is sealed from the first write.
import { type NodeCredentials, RaftMembershipClient, RpcClient, TlsIdentity, clientCredentials } from '../../shared/rpc';
import { resealNodeKey } from '../autolock';
import { RootCA } from '../ca';
import { dataKeyOf, saveDataKey } from '../secrets';
import { caDir } from '../manager';
import { swarmDir } from './state';

export interface RaftJoinResult {
  initialCluster: Record<string, string>;
  busToken: string;
  natsRoutes: string[];
  managers: string[];
}

export async function joinRaftGroup(opts: { remoteAddr: string; credentials: NodeCredentials; clusterId: string; advertiseHost: string; grpcPort: number; dataRoot: string; timeoutMs?: number }): Promise<RaftJoinResult> {
  const rpc = new RpcClient(opts.remoteAddr, clientCredentials(new TlsIdentity(opts.credentials), { clusterId: opts.clusterId }));
  try {
    const res = await new RaftMembershipClient(rpc).join({ advertiseAddr: opts.advertiseHost, grpcPort: opts.grpcPort }, { timeoutMs: opts.timeoutMs ?? 20_000 });
    if (res.unlockKey?.length) {
      // Saved in the clear when the node enrolled: sealed now.
      await resealNodeKey(swarmDir(opts.dataRoot), dataKeyOf(Buffer.from(res.unlockKey)), opts.credentials);
    }
    const ca = await RootCA.fromPem(res.caCertificate, res.caKey);
    await ca.save(caDir(opts.dataRoot));
    await saveDataKey(swarmDir(opts.dataRoot), dataKeyOf(Buffer.from(res.dataKey)));
    return { initialCluster: res.initialCluster, busToken: res.busToken, natsRoutes: res.natsRoutes, managers: res.managers };
  } finally {
    rpc.close();
  }
}
