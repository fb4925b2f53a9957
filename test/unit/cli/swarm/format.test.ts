import assert from 'node:assert/strict';
import { parseFormat, renderRows } from '../../../../cli/format/formatter';
import { bytesSize, displayImage, goDuration, goTimeUTC, naturalCompare, prettyPrint } from '../../../../cli/format/swarm';
import { NODE_HEADERS, NODE_TABLE, nodePretty, nodeRow } from '../../../../cli/format/nodes';
import { SERVICE_HEADERS, SERVICE_TABLE, servicePorts, servicePretty, serviceRow } from '../../../../cli/format/services';
import { currentState, TASK_HEADERS, TASK_TABLE, taskRows } from '../../../../cli/format/tasks';
import type { Node, Service, Task } from '../../../../cli/format/swarm-types';
import { parsePublish, parseShellWords, parseUint } from '../../../../cli/opts/service/values';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe('cli swarm display helpers', () => {
  it("Go's duration strings", () => {
    const cases: Array<[number, string]> = [
      [0, '0s'],
      [4, '4ns'],
      [1500, '1.5µs'],
      [500e6, '500ms'],
      [5e9, '5s'],
      [1.5e9, '1.5s'],
      [90e9, '1m30s'],
      [3600e9, '1h0m0s'],
      [2160 * 3600e9, '2160h0m0s'],
      [-2e9, '-2s'],
    ];
    for (const [ns, s] of cases) assert.equal(goDuration(ns), s, `${ns}`);
  });
  it('natural order, PrettyPrint, binary sizes, Go times', () => {
    assert.deepEqual(['node-10', 'node-2', 'node-1', 'a'].sort(naturalCompare), ['a', 'node-1', 'node-2', 'node-10']);
    assert.deepEqual(['web.10', 'web.9', 'api.1'].sort(naturalCompare), ['api.1', 'web.9', 'web.10']);
    assert.equal(prettyPrint('ready'), 'Ready');
    assert.equal(prettyPrint('READY'), 'Ready');
    assert.equal(prettyPrint(''), '');
    assert.equal(bytesSize(20 * 1024 * 1024), '20MiB');
    assert.equal(bytesSize(1.5 * 1024 ** 3), '1.5GiB');
    assert.equal(goTimeUTC('2016-08-18T10:44:24.496525531Z'), '2016-08-18 10:44:24.496525531 +0000 UTC');
    assert.equal(goTimeUTC('2009-11-10T23:00:00Z'), '2009-11-10 23:00:00 +0000 UTC');
  });
  it('images: the digest is dropped when there is a tag', () => {
    const digest = 'sha256:' + 'b'.repeat(64);
    assert.equal(displayImage(`busybox:1.36@${digest}`), 'busybox:1.36');
    assert.equal(displayImage(`docker.io/library/busybox:latest@${digest}`), 'busybox:latest');
    assert.equal(displayImage(`localhost:5000/app@${digest}`), `localhost:5000/app@${digest}`);
    assert.equal(displayImage('busybox'), 'busybox');
  });
  it('flag values: unsigned integers, shell words, published ports', () => {
    assert.equal(parseUint('0x10', '--replicas'), 16);
    assert.equal(parseUint('12', '--replicas'), 12);
    assert.throws(() => parseUint('1.5', '--replicas'), /strconv.ParseUint: parsing "1.5": invalid syntax/);
    assert.deepEqual(parseShellWords(`a 'b c' "d \\"e\\"" f\\ g # comment`, '--args'), ['a', 'b c', 'd "e"', 'f g']);
    assert.deepEqual(parseShellWords('', '--args'), []);
    assert.throws(() => parseShellWords('a\\', '--args'), /EOF found after escape character/);
    assert.deepEqual(parsePublish('8080-8081:80'), [
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8081, PublishMode: 'ingress' },
    ]);
    assert.deepEqual(parsePublish('9000-9001:90-91/udp'), [
      { Protocol: 'udp', TargetPort: 90, PublishedPort: 9000, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 91, PublishedPort: 9001, PublishMode: 'ingress' },
    ]);
    assert.deepEqual(parsePublish('mode=host,target=80,published=8080'), [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }]);
    assert.throws(() => parsePublish('target=80,bogus=1'), /invalid field key: bogus/);
    assert.throws(() => parsePublish('target=80,protocol=icmp'), /invalid protocol value 'icmp'/);
  });
});

const node = (id: string, host: string, extra: Partial<Node> = {}): Node => ({
  ID: id,
  Version: { Index: 1 },
  CreatedAt: '2009-11-10T23:00:00Z',
  Spec: { Role: 'worker', Availability: 'active' },
  Description: { Hostname: host, Engine: { EngineVersion: '28.2.2' } },
  Status: { State: 'ready', Addr: '10.0.0.1' },
  ...extra,
});

describe('cli node ls and node inspect --pretty', () => {
  it('node ls: the current node marked with *, manager status, natural order by hostname', () => {
    const nodes = [
      node('nodeid2', 'node-10', { ManagerStatus: { Reachability: 'reachable', Addr: '10.0.0.2:2377' } }),
      node('nodeid1', 'node-2', { ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '10.0.0.1:2377' } }),
      node('nodeid3', 'node-1', { Status: { State: 'down' }, Spec: { Availability: 'drain' } }),
    ].sort((a, b) => naturalCompare(a.Description!.Hostname!, b.Description!.Hostname!));
    const out = renderRows(parseFormat(undefined, NODE_TABLE), nodes.map((n) => nodeRow(n, 'nodeid1')), NODE_HEADERS);
    assert.equal(
      out,
      'ID          HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n' +
        'nodeid3     node-1     Down      Drain                           28.2.2\n' +
        'nodeid1 *   node-2     Ready     Active         Leader           28.2.2\n' +
        'nodeid2     node-10    Ready     Active         Reachable        28.2.2\n',
    );
    assert.equal(renderRows(parseFormat('{{.ID}} {{.Self}} {{.TLSStatus}}', NODE_TABLE), [nodeRow(nodes[1], 'nodeid1')], NODE_HEADERS), 'nodeid1 true Unknown\n');
    assert.equal(
      renderRows(parseFormat('json', NODE_TABLE), [nodeRow(nodes[1], 'nodeid1')], NODE_HEADERS),
      '{"Availability":"Active","EngineVersion":"28.2.2","Hostname":"node-2","ID":"nodeid1","ManagerStatus":"Leader","Self":true,"Status":"Ready","TLSStatus":"Unknown"}\n',
    );
  });
  it('node inspect --pretty: a leader with labels, plugins and TLS info', () => {
    const n = node('nodeID', 'host1', {
      Spec: { Name: 'n1', Labels: { zone: 'a', flag: '' }, Role: 'manager', Availability: 'active' },
      ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '10.0.0.1:2377' },
      Description: {
        Hostname: 'host1',
        Platform: { OS: 'linux', Architecture: 'x86_64' },
        Resources: { NanoCPUs: 2e9, MemoryBytes: 20 * 1024 * 1024 },
        Engine: { EngineVersion: '28.2.2', Labels: { engine: 'label' }, Plugins: [{ Type: 'Network', Name: 'bridge' }, { Type: 'Volume', Name: 'local' }, { Type: 'Network', Name: 'overlay' }] },
        TLSInfo: { TrustRoot: '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n', CertIssuerSubject: 'c3ViamVjdA==', CertIssuerPublicKey: 'a2V5' },
      },
    });
    assert.equal(
      nodePretty(n),
      [
        'ID:\t\t\tnodeID',
        'Name:\t\t\tn1',
        'Labels:',
        ' - flag',
        ' - zone=a',
        'Hostname:              \thost1',
        'Joined at:             \t2009-11-10 23:00:00 +0000 utc',
        'Status:',
        ' State:\t\t\tReady',
        ' Availability:         \tActive',
        ' Address:\t\t10.0.0.1',
        'Manager Status:',
        ' Address:\t\t10.0.0.1:2377',
        ' Raft Status:\t\tReachable',
        ' Leader:\t\tYes',
        'Platform:',
        ' Operating System:\tlinux',
        ' Architecture:\t\tx86_64',
        'Resources:',
        ' CPUs:\t\t\t2',
        ' Memory:\t\t20MiB',
        'Plugins:',
        ' Network:\t\tbridge, overlay',
        ' Volume:\t\tlocal',
        'Engine Version:\t\t28.2.2',
        'Engine Labels:',
        ' - engine=label',
        'TLS Info:',
        ' TrustRoot:',
        '-----BEGIN CERTIFICATE-----',
        'X',
        '-----END CERTIFICATE-----',
        '',
        ' Issuer Subject:\tc3ViamVjdA==',
        ' Issuer Public Key:\ta2V5',
        '',
      ].join('\n'),
    );
  });
});

const svc = (name: string, extra: Partial<Service> = {}, spec: Partial<Service['Spec']> = {}): Service => ({
  ID: `${name}-id-0123456789abcdef`,
  Version: { Index: 3 },
  Spec: { Name: name, TaskTemplate: { ContainerSpec: { Image: `busybox:latest@sha256:${'c'.repeat(64)}` } }, Mode: { Replicated: { Replicas: 3 } }, ...spec },
  ...extra,
});

describe('cli service ls and service inspect --pretty', () => {
  it('service ls: replicas, job completions, per-node cap, ingress ports merged into ranges', () => {
    const services = [
      svc('web', { ServiceStatus: { RunningTasks: 2, DesiredTasks: 3 }, Endpoint: { Ports: [80, 81, 82].map((p) => ({ Protocol: 'tcp', TargetPort: p, PublishedPort: 8000 + p, PublishMode: 'ingress' })) } }),
      svc('batch', { ServiceStatus: { RunningTasks: 1, DesiredTasks: 1, CompletedTasks: 2 } }, { Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 5 } } }),
      svc('agent', { ServiceStatus: { RunningTasks: 3, DesiredTasks: 3 } }, { Mode: { Global: {} } }),
      svc('capped', { ServiceStatus: { RunningTasks: 1, DesiredTasks: 2 } }, { TaskTemplate: { ContainerSpec: { Image: 'nginx:1' }, Placement: { MaxReplicas: 1 } } }),
      svc('gjob', { ServiceStatus: { RunningTasks: 0, DesiredTasks: 0, CompletedTasks: 2 } }, { Mode: { GlobalJob: {} } }),
    ].sort((a, b) => naturalCompare(a.Spec.Name!, b.Spec.Name!));
    assert.equal(
      renderRows(parseFormat(undefined, SERVICE_TABLE), services.map(serviceRow), SERVICE_HEADERS),
      'ID             NAME      MODE             REPLICAS               IMAGE            PORTS\n' +
        'agent-id-012   agent     global           3/3                    busybox:latest   \n' +
        'batch-id-012   batch     replicated job   1/1 (2/5 completed)    busybox:latest   \n' +
        'capped-id-01   capped    replicated       1/2 (max 1 per node)   nginx:1          \n' +
        'gjob-id-0123   gjob      global job       0/0 (2/2 completed)    busybox:latest   \n' +
        'web-id-01234   web       replicated       2/3                    busybox:latest   *:8080-8082->80-82/tcp\n',
    );
  });
  it('ports: protocols apart, gaps split ranges, host-mode ports not shown', () => {
    assert.equal(
      servicePorts([
        { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 90, PublishedPort: 8081, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 22, PublishedPort: 2222, PublishMode: 'host' },
      ]),
      '*:8080->80/tcp, *:8081->90/tcp, *:53->53/udp',
    );
    assert.equal(servicePorts(undefined), '');
  });
  it('service inspect --pretty, as docker lays it out', () => {
    const s: Service = {
      ID: 'de179gar9d0o7ltdybungplod',
      Version: { Index: 5 },
      Spec: {
        Name: 'my_service',
        Labels: { 'com.label': 'foo' },
        TaskTemplate: {
          ContainerSpec: {
            Image: 'foo/bar@sha256:this_is_a_test',
            Args: ['top', '-b'],
            Env: ['A=1'],
            Init: false,
            Mounts: [{ Type: 'volume', Source: 'data', Target: '/data', ReadOnly: true }],
            Healthcheck: { Test: ['CMD-SHELL', 'curl'], Interval: 4, Timeout: 1, StartPeriod: 2, Retries: 3 },
          },
          Resources: { Limits: { NanoCPUs: 100e9, MemoryBytes: 10 * 1024 * 1024, Pids: 20 }, Reservations: {} },
          Placement: { Constraints: ['node.role==worker', 'node.labels.a==b'], MaxReplicas: 2 },
          LogDriver: { Name: 'driver', Options: { 'max-file': '5' } },
          Networks: [{ Target: 'netid' }],
        },
        Mode: { Replicated: { Replicas: 2 } },
        UpdateConfig: { Parallelism: 1, Delay: 10e9, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0.15, Order: 'stop-first' },
        EndpointSpec: { Mode: 'vip' },
      },
      Endpoint: { Ports: [{ Protocol: 'tcp', TargetPort: 5000, PublishedPort: 30000 }] },
      UpdateStatus: { State: 'completed', StartedAt: ago(120_000), CompletedAt: ago(60_000), Message: 'update completed' },
    };
    assert.equal(
      servicePretty(s, { netid: 'mynetwork' }, NOW),
      [
        '',
        'ID:\t\tde179gar9d0o7ltdybungplod',
        'Name:\t\tmy_service',
        'Labels:',
        ' com.label=foo',
        'Service Mode:\tReplicated',
        ' Replicas:\t2',
        'UpdateStatus:',
        ' State:\t\tcompleted',
        ' Started:\t2 minutes ago',
        ' Completed:\tAbout a minute ago',
        ' Message:\tupdate completed',
        'Placement:',
        ' Constraints:\t[node.role==worker node.labels.a==b]',
        ' Max Replicas Per Node:   2',
        'UpdateConfig:',
        ' Parallelism:\t1',
        ' Delay:\t\t10s',
        ' On failure:\tpause',
        ' Monitoring Period: 5s',
        ' Max failure ratio: 0.15',
        ' Update order:      stop-first',
        'ContainerSpec:',
        ' Image:\t\tfoo/bar@sha256:this_is_a_test',
        ' Args:\t\ttop -b ',
        ' Env:\t\tA=1 ',
        ' Init:\t\tfalse',
        'Mounts:',
        ' Target:\t/data',
        '  Source:\tdata',
        '  ReadOnly:\ttrue',
        '  Type:\t\tvolume',
        'Log Driver:',
        ' Name:\t\tdriver',
        ' LogOpts:',
        '  max-file:       5',
        '',
        'Resources:',
        ' Limits:',
        '  CPU:\t\t100',
        '  Memory:\t10MiB',
        '  PIDs:\t\t20',
        'Networks: mynetwork ',
        'Endpoint Mode:\tvip',
        'Ports:',
        ' PublishedPort = 30000',
        '  Protocol = tcp',
        '  TargetPort = 5000',
        '  PublishMode =  ',
        ' Healthcheck:',
        '  Interval = 4ns',
        '  Retries = 3',
        '  StartPeriod =\t2ns',
        '  Timeout =\t1ns',
        '  Tests:',
        '\t Test = CMD-SHELL',
        '\t Test = curl ',
        '',
        '',
      ].join('\n'),
    );
  });
  it('service inspect --pretty: global mode, rollback config, capabilities, no resources', () => {
    const s = svc('g', {}, {
      Mode: { Global: {} },
      TaskTemplate: { ContainerSpec: { Image: 'busybox:latest', User: 'nobody', CapabilityAdd: ['CAP_NET_ADMIN', 'CAP_SYS_TIME'], Sysctls: { 'net.core.somaxconn': '1024' }, Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 2 }] } },
      RollbackConfig: { Parallelism: 0, FailureAction: 'continue', MaxFailureRatio: 0, Order: 'start-first' },
      EndpointSpec: { Mode: 'dnsrr' },
    });
    assert.equal(
      servicePretty(s, {}, NOW),
      [
        '',
        'ID:\t\tg-id-0123456789abcdef',
        'Name:\t\tg',
        'Service Mode:\tGlobal',
        'Placement:',
        'RollbackConfig:',
        ' Parallelism:\t0',
        ' On failure:\tcontinue',
        ' Max failure ratio: 0',
        ' Rollback order:    start-first',
        'ContainerSpec:',
        ' Image:\t\tbusybox:latest',
        ' User: nobody',
        'Capabilities:',
        ' Add: CAP_NET_ADMIN, CAP_SYS_TIME',
        'SysCtls:',
        ' net.core.somaxconn: 1024',
        'Ulimits:',
        ' nofile: 1:2',
        'Endpoint Mode:\tdnsrr',
        '',
        '',
      ].join('\n'),
    );
  });
});

const task = (id: string, slot: number, created: number, extra: Partial<Task> = {}): Task => ({
  ID: id,
  Version: { Index: 1 },
  CreatedAt: ago(created),
  ServiceID: 'svcid',
  Slot: slot,
  NodeID: 'nodeid',
  Spec: { ContainerSpec: { Image: `busybox:latest@sha256:${'d'.repeat(64)}` } },
  DesiredState: 'running',
  Status: { State: 'running', Timestamp: ago(5000) },
  ...extra,
});

describe('cli service ps and node ps rows', () => {
  const names = { serviceName: (id: string) => (id === 'svcid' ? 'web' : id), nodeName: (id: string) => (id === 'nodeid' ? 'node-1' : id) };
  it('current state as docker words it', () => {
    assert.equal(currentState(task('t', 1, 0), NOW), 'Running 5 seconds ago');
    assert.equal(currentState(task('t', 1, 0, { Status: { State: 'failed', Timestamp: ago(90_000) } }), NOW), 'Failed about a minute ago');
    assert.equal(currentState(task('t', 1, 0, { Status: { State: 'new', Timestamp: ago(100) } }), NOW), 'New less than a second ago');
  });
  it('sorted by name, newest first; history indented; errors quoted and cut at 30; ports', () => {
    const tasks = [
      task('oldtask1234567890', 1, 60_000, { DesiredState: 'shutdown', Status: { State: 'failed', Timestamp: ago(30_000), Err: 'task: non-zero exit (1): the process ended badly' } }),
      task('newtask1234567890', 1, 10_000, { Status: { State: 'running', Timestamp: ago(5000), PortStatus: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] } } }),
      task('slot10task1234567', 10, 10_000),
      task('slot2task12345678', 2, 10_000, { DesiredState: 'running', Status: { State: 'pending', Timestamp: ago(2000), Err: 'no suitable node' } }),
      task('globaltask1234567', 0, 10_000, { ServiceID: 'other-svc', NodeID: 'n2' }),
    ];
    const rows = taskRows(tasks, { trunc: true, table: true, now: NOW, ...names });
    assert.equal(
      renderRows(parseFormat(undefined, TASK_TABLE), rows, TASK_HEADERS),
      'ID             NAME           IMAGE            NODE      DESIRED STATE   CURRENT STATE           ERROR                              PORTS\n' +
        'globaltask12   other-svc.n2   busybox:latest   n2        Running         Running 5 seconds ago                                      \n' +
        'newtask12345   web.1          busybox:latest   node-1    Running         Running 5 seconds ago                                      *:8080->80/tcp\n' +
        'oldtask12345    \\_ web.1      busybox:latest   node-1    Shutdown        Failed 30 seconds ago   "task: non-zero exit (1): the …"   \n' +
        'slot2task123   web.2          busybox:latest   node-1    Running         Pending 2 seconds ago   "no suitable node"                 \n' +
        'slot10task12   web.10         busybox:latest   node-1    Running         Running 5 seconds ago                                      \n',
    );
    const full = taskRows(tasks.slice(0, 2), { trunc: false, table: false, now: NOW, ...names });
    assert.deepEqual(
      full.map((r) => [r.ID, r.Name, r.Image, r.Error]),
      [
        ['newtask1234567890', 'web.1', tasks[1].Spec.ContainerSpec!.Image, ''],
        ['oldtask1234567890', 'web.1', tasks[0].Spec.ContainerSpec!.Image, '"task: non-zero exit (1): the process ended badly"'],
      ],
    );
  });
});
