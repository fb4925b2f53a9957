import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { containerConfigFor, expandTemplate, templateContext, type AgentTask } from '../../../worker/agent/tasks';

const node = { ID: 'n1', Hostname: 'worker-1', Platform: { Architecture: 'x86_64', OS: 'linux' } };
const t: AgentTask = {
  ID: 'tk1',
  ServiceID: 's1',
  ServiceAnnotations: { Name: 'api', Labels: { tier: 'front', 'com.x/y': 'z' } },
  Slot: 4,
  NodeID: 'n1',
  Spec: {
    ContainerSpec: {
      Image: 'busybox',
      Hostname: '{{.Node.Hostname}}-{{.Service.Name}}-{{.Task.Slot}}',
      Env: ['TASK={{ .Task.Name }}', 'TIER={{index .Service.Labels "tier"}}', 'PLAIN=1'],
      Mounts: [{ Type: 'volume', Source: 'data-{{.Task.Slot}}', Target: '/data' }],
    },
  },
  Status: { State: 'assigned' },
  DesiredState: 'running',
};

describe('agent/tasks service templates', () => {
  it('expands Hostname, Env and mount sources on the node', () => {
    const { body } = containerConfigFor(t, node);
    assert.equal(body.Hostname, 'worker-1-api-4');
    assert.deepEqual(body.Env, ['TASK=api.4.tk1', 'TIER=front', 'PLAIN=1']);
    assert.equal(body.HostConfig!.Mounts![0].Source, 'data-4');
  });

  it('knows the documented fields', () => {
    const ctx = templateContext({ ...t, Slot: 0 }, node, 'api.n1.tk1');
    const cases: Array<[string, string]> = [
      ['{{.Service.ID}}', 's1'],
      ['{{.Node.ID}}/{{.Node.Platform.OS}}/{{.Node.Platform.Architecture}}', 'n1/linux/x86_64'],
      ['{{.Task.ID}} {{.Task.Slot}}', 'tk1 n1'],
      ['{{index .Service.Labels "com.x/y"}}', 'z'],
      ['{{index .Service.Labels "absent"}}', ''],
      ['no template', 'no template'],
    ];
    for (const [src, want] of cases) assert.equal(expandTemplate(src, ctx, 'f'), want, src);
  });

  it('refuses what it cannot expand, naming the field', () => {
    const ctx = templateContext(t, node, 'api.4.tk1');
    for (const src of ['{{.Node.Nope}}', '{{.Service.Labels}}', '{{printf "%s" .Task.ID}}', '{{.Task.ID']) {
      assert.throws(() => expandTemplate(src, ctx, 'ContainerSpec.Hostname'), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && e.message.startsWith('ContainerSpec.Hostname: '), src);
    }
  });
});
