import assert from 'node:assert/strict';
import { defaultSeccompProfile } from '../../../worker/engine/runtime/seccomp';
import { computeCapabilities } from '../../../worker/engine/runtime/capabilities';

function denied(p: ReturnType<typeof defaultSeccompProfile>): Set<string> {
  return new Set(p.syscalls!.filter((s) => s.action === 'SCMP_ACT_ERRNO' && !s.args).flatMap((s) => s.names));
}

describe('runtime/seccomp default profile', () => {
  const base = defaultSeccompProfile(computeCapabilities({}), 'x64');

  it('allows by default and denies the dangerous syscalls with EPERM', () => {
    assert.equal(base.defaultAction, 'SCMP_ACT_ALLOW');
    const d = denied(base);
    for (const s of ['kexec_load', 'init_module', 'finit_module', 'delete_module', 'bpf', 'perf_event_open', 'keyctl', 'add_key', 'request_key', 'mount', 'umount2', 'unshare', 'setns', 'swapon', 'reboot', 'open_by_handle_at', 'userfaultfd', 'pivot_root']) {
      assert.ok(d.has(s), `${s} denied`);
    }
    assert.ok(!d.has('ptrace'), 'ptrace allowed (kernel >= 4.8)');
    assert.ok(!d.has('read') && !d.has('clone'), 'ordinary syscalls allowed');
    assert.ok(base.syscalls!.every((s) => s.action !== 'SCMP_ACT_ERRNO' || s.errnoRet !== undefined));
  });

  it('refuses clone with any namespace flag, one rule per flag, and clone3 with ENOSYS', () => {
    const cloneRules = base.syscalls!.filter((s) => s.names.includes('clone'));
    assert.equal(cloneRules.length, 7);
    for (const r of cloneRules) {
      assert.equal(r.args!.length, 1);
      assert.equal(r.args![0].op, 'SCMP_CMP_MASKED_EQ');
      assert.equal(r.args![0].value, r.args![0].valueTwo);
    }
    assert.ok(cloneRules.some((r) => r.args![0].value === 0x10000000), 'CLONE_NEWUSER');
    const c3 = base.syscalls!.find((s) => s.names.includes('clone3'));
    assert.equal(c3?.errnoRet, 38);
  });

  it('gives a group back with the capability that guards it', () => {
    const admin = defaultSeccompProfile(computeCapabilities({ capAdd: ['SYS_ADMIN'] }), 'x64');
    const d = denied(admin);
    assert.ok(!d.has('mount') && !d.has('unshare') && !d.has('setns'));
    assert.ok(!admin.syscalls!.some((s) => s.names.includes('clone')), 'namespaces allowed');
    assert.ok(d.has('kexec_load'), 'unrelated groups stay denied');
    const ptrace = denied(defaultSeccompProfile(computeCapabilities({ capAdd: ['SYS_PTRACE'] }), 'x64'));
    assert.ok(!ptrace.has('process_vm_readv'));
    assert.ok(denied(defaultSeccompProfile(computeCapabilities({ capAdd: ['ALL'] }), 'x64')).has('keyctl'), 'keyring stays denied: not namespaced');
  });

  it('lists the architectures of this machine kind', () => {
    assert.deepEqual(base.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(defaultSeccompProfile([], 'arm64').architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  });
});
