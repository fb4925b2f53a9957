import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from './types';

/** HostConfig with Docker's defaults filled in, so inspect shows every field as dockerd does. */
export function hostConfigWithDefaults(hc: Partial<HostConfig>, networkMode: string, defaultRuntime: string): HostConfig {
  return {
    Binds: hc.Binds ?? null,
    ContainerIDFile: hc.ContainerIDFile ?? '',
    LogConfig: { Type: hc.LogConfig?.Type || 'json-file', Config: hc.LogConfig?.Config ?? {} },
    NetworkMode: networkMode === 'default' ? 'bridge' : networkMode,
    PortBindings: hc.PortBindings ?? {},
    RestartPolicy: hc.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: hc.AutoRemove ?? false,
    VolumeDriver: hc.VolumeDriver ?? '',
    VolumesFrom: hc.VolumesFrom ?? null,
    ConsoleSize: hc.ConsoleSize ?? [0, 0],
    CapAdd: hc.CapAdd ?? null,
    CapDrop: hc.CapDrop ?? null,
    CgroupnsMode: hc.CgroupnsMode ?? 'host',
    Dns: hc.Dns ?? [],
    DnsOptions: hc.DnsOptions ?? [],
    DnsSearch: hc.DnsSearch ?? [],
    ExtraHosts: hc.ExtraHosts ?? null,
    GroupAdd: hc.GroupAdd ?? null,
    IpcMode: hc.IpcMode || 'private',
    Cgroup: hc.Cgroup ?? '',
    Links: hc.Links ?? null,
    OomScoreAdj: hc.OomScoreAdj ?? 0,
    PidMode: hc.PidMode ?? '',
    Privileged: hc.Privileged ?? false,
    PublishAllPorts: hc.PublishAllPorts ?? false,
    ReadonlyRootfs: hc.ReadonlyRootfs ?? false,
    SecurityOpt: hc.SecurityOpt ?? null,
    ...(hc.Tmpfs ? { Tmpfs: hc.Tmpfs } : {}),
    UTSMode: hc.UTSMode ?? '',
    UsernsMode: hc.UsernsMode ?? '',
    ShmSize: hc.ShmSize || 64 * 1024 * 1024,
    ...(hc.Sysctls ? { Sysctls: hc.Sysctls } : {}),
    Runtime: hc.Runtime || defaultRuntime,
    Isolation: '',
    CpuShares: hc.CpuShares ?? 0,
    Memory: hc.Memory ?? 0,
    NanoCpus: hc.NanoCpus ?? 0,
    CgroupParent: hc.CgroupParent ?? '',
    BlkioWeight: hc.BlkioWeight ?? 0,
    CpuPeriod: hc.CpuPeriod ?? 0,
    CpuQuota: hc.CpuQuota ?? 0,
    CpuRealtimePeriod: hc.CpuRealtimePeriod ?? 0,
    CpuRealtimeRuntime: hc.CpuRealtimeRuntime ?? 0,
    CpusetCpus: hc.CpusetCpus ?? '',
    CpusetMems: hc.CpusetMems ?? '',
    Devices: hc.Devices ?? [],
    DeviceCgroupRules: hc.DeviceCgroupRules ?? null,
    MemoryReservation: hc.MemoryReservation ?? 0,
    MemorySwap: hc.MemorySwap ?? 0,
    MemorySwappiness: hc.MemorySwappiness ?? null,
    OomKillDisable: hc.OomKillDisable ?? null,
    PidsLimit: hc.PidsLimit ?? null,
    Ulimits: hc.Ulimits ?? null,
    MaskedPaths: hc.MaskedPaths ?? null,
    ReadonlyPaths: hc.ReadonlyPaths ?? null,
    ...(hc.Mounts ? { Mounts: hc.Mounts } : {}),
    ...(hc.Init !== undefined ? { Init: hc.Init } : {}),
  };
}

/** Bytes used by the files under `dir` (SizeRw, SizeRootFs, prune's SpaceReclaimed). */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    const entries = await fs.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const st = await fs.lstat(p).catch(() => undefined);
        if (st) total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}
