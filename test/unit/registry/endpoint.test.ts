import assert from 'node:assert/strict';
import { isLoopbackDomain, resolveEndpoint } from '../../../worker/engine/registry';
import { networkError } from '../../../worker/engine/registry/errors';

describe('registry endpoints', () => {
  it('reaches loopback registries over http, as docker does by default', () => {
    for (const dom of ['localhost:5000', 'localhost', '127.0.0.1:5000', '127.8.9.10', '[::1]:5000']) {
      assert.equal(isLoopbackDomain(dom), true, dom);
      assert.equal(resolveEndpoint(dom).baseUrl.startsWith('http://'), true, dom);
    }
  });

  it('uses https for every other host', () => {
    for (const dom of ['registry.example.com', '10.0.0.1:5000', '128.0.0.1', 'localhostx:5000', '[::2]:5000']) {
      assert.equal(isLoopbackDomain(dom), false, dom);
      assert.equal(resolveEndpoint(dom).baseUrl, `https://${dom}`);
    }
  });

  it('maps docker.io (and its aliases) to registry-1.docker.io', () => {
    assert.deepEqual(resolveEndpoint('docker.io'), { domain: 'docker.io', baseUrl: 'https://registry-1.docker.io', insecure: false });
    assert.equal(resolveEndpoint('index.docker.io').baseUrl, 'https://registry-1.docker.io');
  });

  it('honours an insecure-registries list of hosts and CIDRs', () => {
    assert.equal(resolveEndpoint('reg.lan:5000', { insecureRegistries: ['reg.lan:5000'] }).baseUrl, 'http://reg.lan:5000');
    assert.equal(resolveEndpoint('10.1.2.3:5000', { insecureRegistries: ['10.0.0.0/8'] }).insecure, true);
    assert.equal(resolveEndpoint('11.1.2.3:5000', { insecureRegistries: ['10.0.0.0/8'] }).insecure, false);
  });

  it('words network failures as docker does', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    assert.equal(networkError('GET', 'http://127.0.0.1:5999/v2/', refused).message, 'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused');
    const nohost = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
    const e = networkError('HEAD', 'https://registry-1.docker.io/v2/library/busybox/manifests/latest', nohost);
    assert.equal(e.code, 'UNAVAILABLE');
    assert.equal(e.message, 'Head "https://registry-1.docker.io/v2/library/busybox/manifests/latest": dial tcp: lookup registry-1.docker.io: no such host');
    const ctl = new AbortController();
    ctl.abort();
    assert.equal(networkError('GET', 'http://x/v2/', new Error('aborted'), ctl.signal).code, 'CANCELLED');
  });
});
