// The lab's network: one bridge in the root namespace, and per host a network namespace joined
// to it by a veth pair. Every delete here tolerates a missing object, so `down` can run over
// a half-made lab.
import { run } from '../../shared/exec';
import { errorMessage, isShoalError } from '../../shared/errors';
import type { LabPlan, PlannedHost } from './plan';

const ip = (...args: string[]) => run('ip', args, { errorCode: 'UNAVAILABLE' });

/** Run a delete; "does not exist" answers are success. */
async function removing(cmd: string, args: string[]): Promise<void> {
  try {
    await run(cmd, args);
  } catch (e) {
    const msg = errorMessage(e);
    if (isShoalError(e) && /Cannot find device|No such file|does not exist|not found/i.test(msg)) return;
    throw e;
  }
}

/** Whether subnet index i is free on this machine: no bridge of that name, no route into its subnet. */
export async function indexUsable(plan: Pick<LabPlan, 'bridge' | 'subnet'>): Promise<boolean> {
  const link = await run('ip', ['link', 'show', plan.bridge], { okCodes: [0, 1] });
  if (link.code === 0) return false;
  const routes = await run('ip', ['-4', 'route', 'show', 'root', plan.subnet]);
  const covering = await run('ip', ['-4', 'route', 'show', 'match', plan.subnet.replace(/0\/24$/, '1')]);
  // Only the default route may cover the subnet from above.
  const other = covering.stdout.split('\n').filter((l) => l.trim() && !l.startsWith('default'));
  return routes.stdout.trim() === '' && other.length === 0;
}

/**
 * The lab bridge with a fixed MAC (a bridge otherwise takes a port's MAC, which changes as
 * ports come and go and breaks the hosts' ARP entries for the gateway), the gateway address,
 * and an nft table that keeps anything the hosts route via the gateway on this machine.
 */
export async function createBridge(plan: LabPlan): Promise<void> {
  await ip('link', 'add', plan.bridge, 'address', plan.bridgeMac, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0');
  await ip('addr', 'add', `${plan.gateway}/24`, 'dev', plan.bridge);
  await ip('link', 'set', plan.bridge, 'up');
  const rules = [
    `table ip ${plan.guardTable} {`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    ip saddr ${plan.subnet} ip daddr != ${plan.subnet} drop`,
    '  }',
    '}',
  ].join('\n');
  await run('nft', ['-f', '-'], { input: rules, errorCode: 'UNAVAILABLE' });
}

export async function deleteBridge(plan: Pick<LabPlan, 'bridge' | 'guardTable'>): Promise<void> {
  await removing('ip', ['link', 'del', plan.bridge]);
  await removing('nft', ['delete', 'table', 'ip', plan.guardTable]);
}

/** The host's namespace, its veth (eth0 inside, a bridge port outside), address and default route. */
export async function createHostLink(h: PlannedHost, bridge: string, gateway: string): Promise<void> {
  await ip('netns', 'add', h.netns);
  await ip('link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'address', h.mac, 'netns', h.netns);
  await ip('link', 'set', h.veth, 'master', bridge, 'up');
  const inNs = (...args: string[]) => ip('-n', h.netns, ...args);
  await inNs('link', 'set', 'lo', 'up');
  await inNs('addr', 'add', `${h.address}/24`, 'dev', 'eth0');
  await inNs('link', 'set', 'eth0', 'up');
  await inNs('route', 'add', 'default', 'via', gateway);
}

/** Delete the veth first: deleting a namespace frees its devices asynchronously. */
export async function deleteHostLink(h: Pick<PlannedHost, 'veth' | 'netns'>): Promise<void> {
  await removing('ip', ['link', 'del', h.veth]);
  await removing('ip', ['netns', 'del', h.netns]);
}

/** Cut (or restore) the host's only link to the other hosts: its bridge port goes down. */
export async function setLinkUp(h: Pick<PlannedHost, 'veth'>, up: boolean): Promise<void> {
  await ip('link', 'set', h.veth, up ? 'up' : 'down');
}
