import assert from 'node:assert/strict';
import { ShoalCommand } from '../../../cli/program';
import { addCreateFlags, runFlags, startFailureCode } from '../../../cli/commands/run';
import { buildCreateRequest, type CreateRequest } from '../../../cli/opts/run';
import { FlagError, OptionError } from '../../../cli/opts/errors';

/** Parse argv with the real run/create flag definitions, then convert (no I/O: files and env are given). */
function create(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): CreateRequest {
  const cmd = addCreateFlags(new ShoalCommand('create').argument('<image>').argument('[command...]').passThroughOptions().markRunLike());
  cmd.option('-d, --detach');
  cmd.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  let image = '';
  let args: string[] = [];
  cmd.action((i: string, a: string[]) => {
    image = i;
    args = a;
  });
  cmd.parse(argv, { from: 'user' });
  const readFile = (p: string) => {
    if (p in files) return Buffer.from(files[p]);
    throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
  };
  return buildCreateRequest(runFlags(cmd.opts()), image, args, { readFile, lookupEnv: (k) => env[k], cwd: '/work/dir' });
}

const hc = (r: CreateRequest) => r.body.HostConfig;

describe('cli run/create flags -> ContainerCreate body', () => {
  it('gives docker\'s defaults for a bare image', () => {
    const r = create(['busybox']);
    assert.deepEqual(r.body, {
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Image: 'busybox',
      HostConfig: { NetworkMode: 'default', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } },
      NetworkingConfig: { EndpointsConfig: { default: {} } },
    });
    assert.equal(r.name, undefined);
    assert.equal(r.pull, 'missing');
  });

  it('matches the body the docker CLI sends for a long command line', () => {
    // Expected values captured from docker 28.2.2 `docker create` with the same flags.
    const r = create(
      [
        '-it', '--name', 'x', '-e', 'A=1', '-e', 'HOME', '-e', 'NOPE', '-w', '/w', '-u', '1:2', '-h', 'hh', '--entrypoint', '/bin/sh',
        '-l', 'a=b', '-l', 'c', '-p', '80', '-p', '8080:80', '-p', '127.0.0.1:9000-9001:90-91/udp', '-p', '127.0.0.1::53', '-p', '7000-7005:22', '-P',
        '-v', 'vol:/data:ro', '-v', '/host:/h', '-v', './rel:/rel', '-v', '/anon',
        '--mount', 'type=tmpfs,dst=/t,tmpfs-size=64m', '--mount', 'type=bind,src=/a,dst=/b,readonly', '--mount', 'src=v2,dst=/v2,volume-nocopy,volume-label=x=y',
        '--tmpfs', '/run:rw,size=1m', '--tmpfs', '/t2', '--network', 'mynet', '--network-alias', 'al', '--ip', '10.1.2.3', '--dns', '1.1.1.1',
        '--add-host', 'h:1.2.3.4', '-m', '64m', '--memory-swap', '-1', '--memory-reservation', '32m', '--cpus', '1.5', '--cpu-shares', '512',
        '--cpu-quota', '5000', '--cpu-period', '10000', '--cpuset-cpus', '0', '--pids-limit', '10', '--restart', 'on-failure:3', '--read-only',
        '--security-opt', 'no-new-privileges', '--cap-add', 'NET_ADMIN', '--cap-drop', 'chown', '--privileged', '--stop-signal', 'SIGINT',
        '--stop-timeout', '5', '--health-cmd', 'true', '--health-interval', '5s', '--health-timeout', '2s', '--health-retries', '3',
        '--health-start-period', '1m', '--init', '--shm-size', '128m', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=5', '--expose', '99',
        'busybox', 'echo', 'hi',
      ],
      { HOME: '/root' },
    );
    assert.equal(r.name, 'x');
    assert.deepEqual(r.body, {
      Hostname: 'hh',
      User: '1:2',
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      ExposedPorts: { '22/tcp': {}, '53/tcp': {}, '80/tcp': {}, '90/udp': {}, '91/udp': {}, '99/tcp': {} },
      Tty: true,
      OpenStdin: true,
      StdinOnce: true,
      Env: ['A=1', 'HOME=/root', 'NOPE'],
      Cmd: ['echo', 'hi'],
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Timeout: 2e9, StartPeriod: 60e9, Retries: 3 },
      Image: 'busybox',
      Volumes: { '/anon': {} },
      WorkingDir: '/w',
      Entrypoint: ['/bin/sh'],
      Labels: { a: 'b', c: '' },
      StopSignal: 'SIGINT',
      StopTimeout: 5,
      HostConfig: {
        Binds: ['vol:/data:ro', '/host:/h', '/work/dir/rel:/rel'],
        NetworkMode: 'mynet',
        PortBindings: {
          '22/tcp': [{ HostIp: '', HostPort: '7000-7005' }],
          '53/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
          '80/tcp': [
            { HostIp: '', HostPort: '' },
            { HostIp: '', HostPort: '8080' },
          ],
          '90/udp': [{ HostIp: '127.0.0.1', HostPort: '9000' }],
          '91/udp': [{ HostIp: '127.0.0.1', HostPort: '9001' }],
        },
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
        CapAdd: ['CAP_NET_ADMIN'],
        CapDrop: ['CAP_CHOWN'],
        Dns: ['1.1.1.1'],
        ExtraHosts: ['h:1.2.3.4'],
        Privileged: true,
        PublishAllPorts: true,
        ReadonlyRootfs: true,
        SecurityOpt: ['no-new-privileges'],
        Tmpfs: { '/run': 'rw,size=1m', '/t2': '' },
        ShmSize: 134217728,
        CpuShares: 512,
        Memory: 67108864,
        NanoCpus: 1500000000,
        CpuPeriod: 10000,
        CpuQuota: 5000,
        CpusetCpus: '0',
        MemoryReservation: 33554432,
        MemorySwap: -1,
        PidsLimit: 10,
        Ulimits: [
          { Name: 'nofile', Hard: 2048, Soft: 1024 },
          { Name: 'nproc', Hard: 5, Soft: 5 },
        ],
        Mounts: [
          { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 67108864 } },
          { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true },
          { Type: 'volume', Source: 'v2', Target: '/v2', VolumeOptions: { NoCopy: true, Labels: { x: 'y' }, DriverConfig: {} } },
        ],
        Init: true,
      },
      NetworkingConfig: { EndpointsConfig: { mynet: { IPAMConfig: { IPv4Address: '10.1.2.3' }, Aliases: ['al'] } } },
    });
  });

  describe('ports (-p, -P, --expose)', () => {
    const cases: Array<[string[], Record<string, Array<{ HostIp: string; HostPort: string }>>]> = [
      [['-p', '80'], { '80/tcp': [{ HostIp: '', HostPort: '' }] }],
      [['-p', '8080:80'], { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }],
      [['-p', '127.0.0.1:8080:80/udp'], { '80/udp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] }],
      [['-p', '[::1]:8080:80'], { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] }],
      [['-p', '8000-8001:80-81'], { '80/tcp': [{ HostIp: '', HostPort: '8000' }], '81/tcp': [{ HostIp: '', HostPort: '8001' }] }],
      [['-p', '90-91'], { '90/tcp': [{ HostIp: '', HostPort: '' }], '91/tcp': [{ HostIp: '', HostPort: '' }] }],
      [['-p', '80/SCTP'], { '80/sctp': [{ HostIp: '', HostPort: '' }] }],
      [['-p', 'published=8080,target=80,protocol=udp'], { '80/udp': [{ HostIp: '', HostPort: '8080' }] }],
    ];
    for (const [argv, bindings] of cases) {
      it(`${argv.join(' ')}`, () => {
        const r = create([...argv, 'busybox']);
        assert.deepEqual(hc(r).PortBindings, bindings);
        assert.deepEqual(Object.keys(r.body.ExposedPorts ?? {}).sort(), Object.keys(bindings).sort());
      });
    }
    it('--expose ranges only expose', () => {
      const r = create(['--expose', '5000-5002/udp', 'busybox']);
      assert.deepEqual(r.body.ExposedPorts, { '5000/udp': {}, '5001/udp': {}, '5002/udp': {} });
      assert.equal(hc(r).PortBindings, undefined);
    });
    const bad: Array<[string, string]> = [
      ['99999:80', 'invalid hostPort: 99999'],
      ['80:99999', 'invalid containerPort: 99999'],
      ['1.2.3:80:80', 'invalid IP address: 1.2.3'],
      ['80/sctpx', 'invalid proto: sctpx'],
      ['8080-8081:80-82', 'invalid ranges specified for container and host Ports: 80-82 and 8080-8081'],
      [':', 'no port specified: :<empty>'],
      ['90-80', 'invalid containerPort: 90-80'],
    ];
    for (const [spec, msg] of bad) {
      it(`rejects -p ${spec}`, () => assert.throws(() => create(['-p', spec, 'busybox']), (e: unknown) => e instanceof OptionError && e.message === msg));
    }
  });

  describe('volumes and mounts', () => {
    it('named volume, bind, relative bind and anonymous volume', () => {
      const r = create(['-v', 'data:/data', '-v', '/srv:/srv:ro', '-v', './x:/x:rw', '-v', '/cache', '-v', '/cache', 'busybox']);
      assert.deepEqual(hc(r).Binds, ['data:/data', '/srv:/srv:ro', '/work/dir/x:/x:rw']);
      assert.deepEqual(r.body.Volumes, { '/cache': {} });
    });
    const badVolumes: Array<[string, RegExp]> = [
      ['', /^invalid empty volume spec$/],
      ['a:b:c:d', /^invalid volume specification: 'a:b:c:d'$/],
      ['vol:rel', /mount path must be absolute/],
      ['/a:/b:zz', /invalid mode: zz/],
      ['/a:/b:ro,rw', /invalid mode: ro,rw/],
      ['rel', /mount path must be absolute/],
    ];
    for (const [spec, re] of badVolumes) {
      it(`rejects -v '${spec}'`, () => assert.throws(() => create(['-v', spec, 'busybox']), (e: unknown) => e instanceof OptionError && re.test(e.message)));
    }
    it('--mount types and options', () => {
      const r = create([
        '--mount', 'type=bind,source=/a,target=/b,bind-propagation=rslave,ro=false',
        '--mount', 'type=volume,src=v,dst=/v,volume-driver=local,volume-opt=type=tmpfs,volume-opt=device=tmpfs',
        '--mount', 'type=tmpfs,destination=/t,tmpfs-mode=1770',
        '--mount', '"type=bind","src=/x,y",dst=/z',
        'busybox',
      ]);
      assert.deepEqual(hc(r).Mounts, [
        { Type: 'bind', Source: '/a', Target: '/b', BindOptions: { Propagation: 'rslave' } },
        { Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { Labels: {}, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } } } },
        { Type: 'tmpfs', Target: '/t', TmpfsOptions: { Mode: 0o1770 } },
        { Type: 'bind', Source: '/x,y', Target: '/z' },
      ]);
    });
    const badMounts: Array<[string, string]> = [
      ['src=x', 'target is required'],
      ['type=bind,dst=/x,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'"],
      ['foo=bar,dst=/x', "unexpected key 'foo' in 'foo=bar'"],
      ['type=tmpfs,dst=/x,tmpfs-size=abc', 'invalid value for tmpfs-size: abc'],
      ['type=volume,dst=/x,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'volume'"],
      ['type=bind,dst=/x,junk', "invalid field 'junk' must be a key=value pair"],
    ];
    for (const [spec, reason] of badMounts) {
      it(`rejects --mount ${spec}`, () =>
        assert.throws(
          () => create(['--mount', spec, 'busybox']),
          (e: unknown) => e instanceof FlagError && e.message === `invalid argument "${spec}" for "--mount" flag: ${reason}`,
        ));
    }
  });

  describe('sizes and resources', () => {
    const sizes: Array<[string, number]> = [
      ['64m', 64 * 1024 ** 2],
      ['1g', 1024 ** 3],
      ['1.5G', 1.5 * 1024 ** 3],
      ['512k', 512 * 1024],
      ['100', 100],
      ['2gb', 2 * 1024 ** 3],
      ['10MiB', 10 * 1024 ** 2],
    ];
    for (const [v, n] of sizes) it(`-m ${v} = ${n}`, () => assert.equal(hc(create(['-m', v, 'busybox'])).Memory, n));
    it('rejects a bad -m with docker\'s message', () =>
      assert.throws(() => create(['-m', '12x', 'busybox']), (e: unknown) => e instanceof Error && e.message === 'invalid argument "12x" for "-m, --memory" flag: invalid size: \'12x\''));
    it('rejects a bad --shm-size and --memory-swap', () => {
      assert.throws(() => create(['--shm-size', 'lots', 'busybox']), /invalid argument "lots" for "--shm-size" flag: invalid size: 'lots'/);
      assert.throws(() => create(['--memory-swap', 'abc', 'busybox']), /invalid argument "abc" for "--memory-swap" flag: invalid size: 'abc'/);
    });
    it('--cpus to NanoCpus, integers checked', () => {
      assert.equal(hc(create(['--cpus', '0.25', 'busybox'])).NanoCpus, 250_000_000);
      assert.throws(() => create(['--cpus', 'abc', 'busybox']), /invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number/);
      assert.throws(() => create(['--cpu-shares', '1.5', 'busybox']), /invalid argument "1.5" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "1.5": invalid syntax/);
      assert.throws(() => create(['--pids-limit', 'x', 'busybox']), /for "--pids-limit" flag/);
    });
    it('--pids-limit -1 and --stop-timeout 0 are sent when given', () => {
      const r = create(['--pids-limit', '-1', '--stop-timeout', '0', 'busybox']);
      assert.equal(hc(r).PidsLimit, -1);
      assert.equal(r.body.StopTimeout, 0);
    });
  });

  describe('restart policy', () => {
    const ok: Array<[string, { Name: string; MaximumRetryCount: number }]> = [
      ['no', { Name: 'no', MaximumRetryCount: 0 }],
      ['always', { Name: 'always', MaximumRetryCount: 0 }],
      ['unless-stopped', { Name: 'unless-stopped', MaximumRetryCount: 0 }],
      ['on-failure', { Name: 'on-failure', MaximumRetryCount: 0 }],
      ['on-failure:5', { Name: 'on-failure', MaximumRetryCount: 5 }],
    ];
    for (const [v, p] of ok) it(`--restart ${v}`, () => assert.deepEqual(hc(create(['--restart', v, 'busybox'])).RestartPolicy, p));
    const bad: Array<[string[], RegExp]> = [
      [['--restart', 'bogus'], /unknown policy 'bogus'/],
      [['--restart', 'on-failure:x'], /maximum retry count must be an integer/],
      [['--restart', 'always:3'], /can only be used with 'on-failure'/],
      [['--restart', 'on-failure:-1'], /cannot be negative/],
      [['--restart', 'always', '--rm'], /^conflicting options: cannot specify both --restart and --rm$/],
    ];
    for (const [argv, re] of bad) it(`rejects ${argv.join(' ')}`, () => assert.throws(() => create([...argv, 'busybox']), (e: unknown) => e instanceof OptionError && re.test(e.message)));
    it('--rm alone sets AutoRemove', () => assert.equal(hc(create(['--rm', 'busybox'])).AutoRemove, true));
  });

  describe('health flags', () => {
    it('--no-healthcheck', () => assert.deepEqual(create(['--no-healthcheck', 'busybox']).body.Healthcheck, { Test: ['NONE'] }));
    it('durations without a command keep the image\'s test', () =>
      assert.deepEqual(create(['--health-interval', '1m30s', '--health-start-interval', '500ms', 'busybox']).body.Healthcheck, { Test: [], Interval: 90e9, StartInterval: 500e6 }));
    const bad: Array<[string[], string]> = [
      [['--health-interval', '5x'], 'invalid argument "5x" for "--health-interval" flag: time: unknown unit "x" in duration "5x"'],
      [['--health-timeout', '10'], 'invalid argument "10" for "--health-timeout" flag: time: missing unit in duration "10"'],
      [['--health-interval', '-5s'], '--health-interval cannot be negative'],
      [['--health-retries', '-1'], '--health-retries cannot be negative'],
      [['--no-healthcheck', '--health-cmd', 'x'], '--no-healthcheck conflicts with --health-* options'],
    ];
    for (const [argv, msg] of bad) it(`rejects ${argv.join(' ')}`, () => assert.throws(() => create([...argv, 'busybox']), (e: unknown) => e instanceof Error && e.message === msg));
  });

  describe('env and label files', () => {
    it('reads env files before -e, with comments, bare names and untouched values', () => {
      const r = create(['--env-file', '/e', '-e', 'B=override', 'busybox'], { FROMHOST: 'yes' }, { '/e': '\ufeff# comment\n\nA=1\r\nB= spaced value \n  FROMHOST\nMISSING\n' });
      assert.deepEqual(r.body.Env, ['A=1', 'B= spaced value ', 'FROMHOST=yes', 'MISSING', 'B=override']);
    });
    it('rejects whitespace in a name and a missing file', () => {
      assert.throws(() => create(['--env-file', '/e', 'busybox'], {}, { '/e': 'BAD NAME=1\n' }), /poorly formatted environment: variable 'BAD NAME' contains whitespaces/);
      assert.throws(() => create(['--env-file', '/nope', 'busybox']), (e: unknown) => e instanceof OptionError && e.message === 'open /nope: no such file or directory');
      assert.throws(() => create(['-e', '=x', 'busybox']), /invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x/);
    });
    it('label files then -l', () => {
      const r = create(['--label-file', '/l', '-l', 'b=2', 'busybox'], {}, { '/l': 'a=1\nb=1\nflag\n' });
      assert.deepEqual(r.body.Labels, { a: '1', b: '2', flag: '' });
    });
  });

  describe('other flags', () => {
    it('ulimits, devices, sysctls, dns, hosts and capabilities', () => {
      const r = create(['--ulimit', 'nofile=10', '--ulimit', 'nofile=20:30', '--device', '/dev/fuse', '--device', '/dev/a:/dev/b:r', '--sysctl', 'net.ipv4.ip_forward=1', '--add-host', 'gw=host-gateway', '--cap-add', 'ALL', '--cap-add', 'sys_admin', '--cap-drop', 'chown', '--cap-drop', 'ALL', 'busybox']);
      assert.deepEqual(hc(r).Ulimits, [{ Name: 'nofile', Hard: 30, Soft: 20 }]);
      assert.deepEqual(hc(r).Devices, [
        { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/a', PathInContainer: '/dev/b', CgroupPermissions: 'r' },
      ]);
      assert.deepEqual(hc(r).Sysctls, { 'net.ipv4.ip_forward': '1' });
      assert.deepEqual(hc(r).ExtraHosts, ['gw:host-gateway']);
      // ALL trumps the rest, and adding wins over dropping
      assert.deepEqual(hc(r).CapAdd, ['ALL']);
      assert.equal(hc(r).CapDrop, undefined);
      const c = create(['--cap-add', 'net_admin', '--cap-drop', 'CAP_NET_ADMIN', '--cap-drop', 'mknod', '--cap-drop', 'chown', 'busybox']);
      assert.deepEqual(hc(c).CapAdd, ['CAP_NET_ADMIN']);
      assert.deepEqual(hc(c).CapDrop, ['CAP_CHOWN', 'CAP_MKNOD']);
    });
    const bad: Array<[string[], string]> = [
      [['--ulimit', 'nofile'], 'invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile'],
      [['--ulimit', 'nofile=5:3'], 'invalid argument "nofile=5:3" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 5 > 3'],
      [['--ulimit', 'foo=3'], 'invalid argument "foo=3" for "--ulimit" flag: invalid ulimit type: foo'],
      [['--add-host', 'foo'], 'invalid argument "foo" for "--add-host" flag: bad format for add-host: "foo"'],
      [['--dns', 'x'], 'invalid argument "x" for "--dns" flag: IP address is not correctly formatted: x'],
      [['-a', 'stdfoo'], 'invalid argument "stdfoo" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR'],
      [['--pull', 'sometimes'], 'invalid pull option: \'sometimes\': must be one of "always", "missing" or "never"'],
    ];
    for (const [argv, msg] of bad) it(`rejects ${argv.join(' ')}`, () => assert.throws(() => create([...argv, 'busybox']), (e: unknown) => e instanceof Error && e.message === msg));
    it('rejects an invalid image reference', () => assert.throws(() => create(['Busybox']), /invalid reference format: repository name \(library\/Busybox\) must be lowercase/));
    it('--entrypoint "" resets the entrypoint; options after the image go to the command', () => {
      const r = create(['--entrypoint', '', 'busybox', 'sh', '-c', 'echo --rm -d']);
      assert.deepEqual(r.body.Entrypoint, ['']);
      assert.deepEqual(r.body.Cmd, ['sh', '-c', 'echo --rm -d']);
      assert.equal(hc(r).AutoRemove, undefined);
    });
    it('-d clears the attach flags; -a picks streams', () => {
      const d = create(['-d', '-i', 'busybox']).body;
      assert.deepEqual([d.AttachStdin, d.AttachStdout, d.AttachStderr, d.OpenStdin, d.StdinOnce], [false, false, false, true, false]);
      const a = create(['-a', 'STDERR', 'busybox']).body;
      assert.deepEqual([a.AttachStdin, a.AttachStdout, a.AttachStderr], [false, false, true]);
    });
    it('accepts docker\'s --flag=false form for booleans and --net as --network', () => {
      const r = create(['--rm=false', '--privileged=true', '--net=n1', '--net-alias', 'x', 'busybox']);
      assert.equal(hc(r).AutoRemove, undefined);
      assert.equal(hc(r).Privileged, true);
      assert.equal(hc(r).NetworkMode, 'n1');
      assert.deepEqual(r.body.NetworkingConfig.EndpointsConfig, { n1: { Aliases: ['x'] } });
    });
  });

  describe('start failure exit codes', () => {
    const cases: Array<[string, number]> = [
      ['failed to create task: exec: "nope": executable file not found in $PATH', 127],
      ['OCI runtime create failed: open /x: no such file or directory', 127],
      ['exec /etc: permission denied', 126],
      ['exec /etc: is a directory', 126],
      ['OCI runtime create failed: open executable: Operation not permitted', 126],
      ['cannot start a container that has stopped', 125],
    ];
    for (const [msg, code] of cases) it(`${code} for "${msg}"`, () => assert.equal(startFailureCode(msg), code));
  });
});
