import assert from 'node:assert/strict';
import { httpStatus } from '../../../shared/errors';
import { Query, type ApiContext } from '../../../shared/api';
import { requireManager, checkPortConflicts, serviceChanges, nodeChanges } from '../../../manager/api';
import { versionParam } from '../../../manager/api/http';
import { node, service, refused } from './fixtures';

const ctxWith = (qs: string) => ({ query: new Query(new URLSearchParams(qs)) }) as unknown as ApiContext;

describe('control API request checks', () => {
  it('answers 503 with dockerd\'s words off a manager', () => {
    assert.throws(
      () => requireManager({ role: () => 'none' }),
      refused(503, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'),
    );
    assert.throws(
      () => requireManager({ role: () => 'worker' }),
      refused(
        503,
        "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.",
      ),
    );
    requireManager({ role: () => 'manager' });
  });

  it('requires ?version= as a positive integer, naming it', () => {
    assert.equal(versionParam(ctxWith('version=42'), 'service'), 42);
    assert.throws(
      () => versionParam(ctxWith(''), 'service'),
      refused(400, "invalid service version '': the version query parameter is required; read the service's current Version.Index (docker service inspect) and send it with the update"),
    );
    assert.throws(
      () => versionParam(ctxWith('version=abc'), 'node'),
      refused(400, "invalid node version 'abc': it must be a positive integer; read the node's current Version.Index (docker node inspect) and send it with the update"),
    );
    assert.throws(() => versionParam(ctxWith('version=0'), 'node'), (e: unknown) => httpStatus(e) === 400);
    assert.throws(() => versionParam(ctxWith('version=-4'), 'node'), (e: unknown) => httpStatus(e) === 400);
  });

  describe('published ports', () => {
    const ports = (...p: Array<[number, 'ingress' | 'host']>) => ({ EndpointSpec: { Ports: p.map(([n, m]) => ({ TargetPort: 80, PublishedPort: n, PublishMode: m })) } });
    const existing = [service('s1', 'web', undefined, ports([8080, 'ingress'])), service('s2', 'edge', undefined, ports([9090, 'host']))];

    it('an ingress port taken by another service is refused', () => {
      const spec = service('new', 'new', undefined, ports([8080, 'ingress'])).Spec;
      assert.throws(() => checkPortConflicts(spec, existing), refused(400, "port '8080' is already in use by service 'web' (s1) as an ingress port"));
      assert.throws(
        () => checkPortConflicts(service('new', 'new', undefined, ports([8080, 'host'])).Spec, existing),
        refused(400, "port '8080' is already in use by service 'web' (s1) as an ingress port"),
      );
      assert.throws(
        () => checkPortConflicts(service('new', 'new', undefined, ports([9090, 'ingress'])).Spec, existing),
        refused(400, "port '9090' is already in use by service 'edge' (s2) as a host-published port"),
      );
    });

    it('host ports may repeat; a service keeps its own; other protocols are other ports', () => {
      checkPortConflicts(service('new', 'new', undefined, ports([9090, 'host'])).Spec, existing);
      checkPortConflicts(existing[0].Spec, existing, 's1');
      const udp = service('u', 'u', undefined, { EndpointSpec: { Ports: [{ TargetPort: 53, PublishedPort: 8080, Protocol: 'udp' }] } }).Spec;
      checkPortConflicts(udp, existing);
    });
  });

  it('event attributes say what changed, as dockerd\'s', () => {
    const a = service('s1', 'web', { Replicated: { Replicas: 1 } });
    const b = { ...service('s1', 'web', { Replicated: { Replicas: 3 } }, { TaskTemplate: { ContainerSpec: { Image: 'busybox:2' } } }), UpdateStatus: { State: 'rollback_started' as const } };
    assert.deepEqual(serviceChanges(a, b), { name: 'web', 'image.old': 'busybox', 'image.new': 'busybox:2', 'replicas.old': '1', 'replicas.new': '3', 'updatestate.new': 'rollback_started' });
    assert.deepEqual(serviceChanges(a, a), { name: 'web' });
    const n = node('n1', 'alpha');
    assert.deepEqual(nodeChanges(n, { ...n, Spec: { ...n.Spec, Availability: 'drain' } }), { name: 'alpha', 'availability.old': 'active', 'availability.new': 'drain' });
  });
});
