import { invalid } from '../../../shared/errors';

/** Every capability this kernel generation knows, by number (linux/capability.h). */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Docker's default set: enough for ordinary services (chown, setuid, binding low ports, ping). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const KNOWN = new Set<string>(ALL_CAPABILITIES);

/** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all name CAP_NET_ADMIN; "ALL" stays "ALL". */
export function normalizeCapability(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!KNOWN.has(full)) throw invalid(`unknown capability: "${name}"`);
  return full;
}

/**
 * The container's capability set from the defaults, CapAdd, CapDrop and Privileged, as dockerd
 * computes it: "ALL" in add starts from every capability, "ALL" in drop from none, and drops
 * win over adds. `available` (the daemon's own bounding set) caps the result: nothing outside
 * it can be granted, and asking the runtime to would fail the start.
 */
export function computeCapabilities(opts: { capAdd?: string[] | null; capDrop?: string[] | null; privileged?: boolean; available?: readonly string[] }): string[] {
  const available = new Set(opts.available ?? ALL_CAPABILITIES);
  if (opts.privileged) return ALL_CAPABILITIES.filter((c) => available.has(c));
  const add = (opts.capAdd ?? []).map(normalizeCapability);
  const drop = (opts.capDrop ?? []).map(normalizeCapability);
  let caps = new Set<string>(DEFAULT_CAPABILITIES);
  if (drop.includes('ALL')) caps = new Set();
  if (add.includes('ALL')) caps = new Set(ALL_CAPABILITIES);
  for (const c of add) if (c !== 'ALL') caps.add(c);
  for (const c of drop) if (c !== 'ALL') caps.delete(c);
  // An explicit add of a cap also dropped ("--cap-drop ALL --cap-add NET_BIND_SERVICE") keeps it.
  if (drop.includes('ALL')) for (const c of add) if (c !== 'ALL') caps.add(c);
  return ALL_CAPABILITIES.filter((c) => caps.has(c) && available.has(c));
}

/** Parse a /proc/<pid>/status Cap* hex mask into capability names. */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim()}`);
  return ALL_CAPABILITIES.filter((_c, i) => (mask >> BigInt(i)) & 1n);
}
