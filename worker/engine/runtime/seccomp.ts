/**
 * shoal's default seccomp profile.
 *
 * Docker's profile is an allow list (default ERRNO, ~350 syscalls allowed). We invert it: default
 * ALLOW with a short deny list. Why: an allow list must track every new syscall the kernel and
 * libc grow (statx, clone3, faccessat2, epoll_pwait2... each broke containers in turn), while the
 * dangerous surface is small and stable. What we deny is what Docker's profile denies for a
 * reason, grouped by the capability that would legitimately need it:
 *  - kernel control: module loading, kexec, reboot, swap, accounting, quota, syslog, clock
 *    setting, iopl/ioperm, obsolete interfaces (uselib, ustat, sysfs, _sysctl, nfsservctl,
 *    vm86, query_module...), lookup_dcookie.
 *  - large attack surface for unprivileged code: bpf, perf_event_open, userfaultfd, keyctl /
 *    add_key / request_key (the keyring is not namespaced), io_uring (repeated privilege
 *    escalation bugs; Docker blocks it too).
 *  - escaping the container's namespaces and mounts: mount, umount, pivot_root, the new mount
 *    API (fsopen, fsmount, move_mount, open_tree...), unshare, setns, and clone with any
 *    CLONE_NEW* flag; clone3 answers ENOSYS so libcs fall back to clone, whose flags a filter
 *    can inspect (clone3 passes them in memory). Unprivileged user namespaces are the main
 *    route to kernel bugs reachable from a container.
 *  - cross-process inspection: process_vm_readv/writev, kcmp, open_by_handle_at (the
 *    "shocker" escape).
 * Each group comes back when the container holds the capability that guards it (CapAdd
 * SYS_ADMIN gives mount and namespaces back, SYS_PTRACE gives process_vm_*, ...), as Docker's
 * profile does. ptrace itself stays allowed: its seccomp bypass was fixed in kernel 4.8, and
 * Docker allows it on such kernels too.
 */

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
}

export interface SeccompSyscall {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_KILL' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_LOG';
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface SeccompProfile {
  defaultAction: SeccompSyscall['action'];
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: SeccompSyscall[];
}

const EPERM = 1;
const ENOSYS = 38;

/** Deny lists, each lifted when the container holds `unlessCap`. */
const DENY_GROUPS: Array<{ names: string[]; unlessCap?: string }> = [
  { names: ['init_module', 'finit_module', 'delete_module', 'create_module', 'get_kernel_syms', 'query_module'], unlessCap: 'CAP_SYS_MODULE' },
  { names: ['kexec_load', 'kexec_file_load', 'reboot'], unlessCap: 'CAP_SYS_BOOT' },
  { names: ['acct'], unlessCap: 'CAP_SYS_PACCT' },
  { names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'clock_adjtime', 'clock_adjtime64', 'adjtimex'], unlessCap: 'CAP_SYS_TIME' },
  { names: ['syslog'], unlessCap: 'CAP_SYSLOG' },
  { names: ['iopl', 'ioperm'], unlessCap: 'CAP_SYS_RAWIO' },
  { names: ['open_by_handle_at'], unlessCap: 'CAP_DAC_READ_SEARCH' },
  { names: ['process_vm_readv', 'process_vm_writev', 'kcmp'], unlessCap: 'CAP_SYS_PTRACE' },
  { names: ['bpf'], unlessCap: 'CAP_BPF' },
  { names: ['perf_event_open'], unlessCap: 'CAP_PERFMON' },
  {
    names: [
      'mount', 'umount', 'umount2', 'pivot_root', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree',
      'mount_setattr', 'unshare', 'setns', 'swapon', 'swapoff', 'quotactl', 'quotactl_fd', 'lookup_dcookie', 'fanotify_init',
      'name_to_handle_at',
    ],
    unlessCap: 'CAP_SYS_ADMIN',
  },
  { names: ['keyctl', 'add_key', 'request_key', 'userfaultfd', 'uselib', 'ustat', 'sysfs', '_sysctl', 'nfsservctl', 'vm86', 'vm86old', 'io_uring_setup', 'io_uring_enter', 'io_uring_register'] },
];

/** The namespace flags of clone(2); a clone asking for any of them is refused without CAP_SYS_ADMIN. */
const CLONE_NEW_FLAGS = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
};

const ARCHES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

/** Build the default profile for a container holding `caps`. */
export function defaultSeccompProfile(caps: readonly string[], arch: string = process.arch): SeccompProfile {
  const held = new Set(caps);
  const syscalls: SeccompSyscall[] = [];
  const denied: string[] = [];
  for (const g of DENY_GROUPS) if (!g.unlessCap || !held.has(g.unlessCap)) denied.push(...g.names);
  syscalls.push({ names: denied, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM });
  if (!held.has('CAP_SYS_ADMIN')) {
    // One rule per flag: the conditions of a single rule are ANDed, so "any of these bits"
    // needs a rule each ((flags & bit) == bit).
    for (const bit of Object.values(CLONE_NEW_FLAGS)) {
      syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: bit, valueTwo: bit, op: 'SCMP_CMP_MASKED_EQ' }] });
    }
    // clone3 takes its flags in a struct seccomp cannot read; ENOSYS makes libc use clone.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ARCHES[arch] ?? [],
    syscalls,
  };
}
