import assert from 'node:assert/strict';
import { ellipsis, goFormatG, humanDuration, humanSize, rfc3339NanoFixed, truncateId } from '../../../cli/format/human';
import { tabulate } from '../../../cli/format/tabwriter';
import { containerRow, displayablePorts, PS_HEADERS, PS_TABLE } from '../../../cli/format/containers';
import { historyRows, IMAGE_HEADERS, IMAGES_TABLE, IMAGES_TABLE_DIGESTS, imageRows } from '../../../cli/format/images';
import { NETWORK_HEADERS, NETWORK_TABLE, networkRow, VOLUME_HEADERS, VOLUME_TABLE, volumeRow } from '../../../cli/format/objects';
import { parseFormat, renderRows } from '../../../cli/format/formatter';
import { renderEvent, renderMessage, StreamError } from '../../../cli/format/progress';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('cli human durations and sizes', () => {
  const durations: Array<[number, string]> = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * S, '1 second'],
    [5 * S, '5 seconds'],
    [59 * S, '59 seconds'],
    [60 * S, 'About a minute'],
    [119 * S, 'About a minute'],
    [2 * M, '2 minutes'],
    [59 * M, '59 minutes'],
    [60 * M, 'About an hour'],
    [89 * M, 'About an hour'],
    [90 * M, '2 hours'],
    [47 * H, '47 hours'],
    [48 * H, '2 days'],
    [13 * D, '13 days'],
    [14 * D, '2 weeks'],
    [59 * D, '8 weeks'],
    [60 * D, '2 months'],
    [729 * D, '24 months'],
    [730 * D, '2 years'],
  ];
  for (const [ms, s] of durations) it(`${ms}ms -> ${s}`, () => assert.equal(humanDuration(ms), s));

  const sizes: Array<[number, number, string]> = [
    [0, 3, '0B'],
    [999, 3, '999B'],
    [1000, 3, '1kB'],
    [1234, 3, '1.23kB'],
    [2_140_000, 3, '2.14MB'],
    [4_261_234, 3, '4.26MB'],
    [123_456_789, 3, '123MB'],
    [999_600, 3, '1e+03kB'],
    [1_500_000_000, 4, '1.5GB'],
    [1_234_567, 4, '1.235MB'],
  ];
  for (const [n, p, s] of sizes) it(`${n} (precision ${p}) -> ${s}`, () => assert.equal(humanSize(n, p), s));

  it('Go %g formatting', () => {
    assert.equal(goFormatG(4, 3), '4');
    assert.equal(goFormatG(0.000012345, 3), '1.23e-05');
    assert.equal(goFormatG(100, 3), '100');
  });
  it('IDs and ellipsis', () => {
    assert.equal(truncateId('sha256:0123456789abcdef0123'), '0123456789ab');
    assert.equal(truncateId('abc'), 'abc');
    assert.equal(ellipsis('sh -c while true; do sleep 1; done', 20), 'sh -c while true; d…');
    assert.equal(ellipsis('short', 20), 'short');
  });
  it('RFC 3339 with fixed nanoseconds', () => {
    const prev = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      assert.equal(rfc3339NanoFixed(1704189600_000000123n), '2024-01-02T10:00:00.000000123Z');
    } finally {
      if (prev === undefined) delete process.env.TZ;
      else process.env.TZ = prev;
    }
  });
});

describe('cli tabwriter (Go text/tabwriter, minwidth 10, padding 3)', () => {
  it('pads columns to the widest cell plus 3, at least 10', () => {
    assert.equal(tabulate('A\tBB\tC\nlonger text\tx\ty\n'), 'A             BB        C\nlonger text   x         y\n');
  });
  it('the last cell of a line is not aligned and empty cells still pad', () => {
    assert.equal(tabulate('a\t\tz\nbbbb\tc\tlast cell is long\n'), 'a                   z\nbbbb      c         last cell is long\n');
  });
  it('a line without tabs ends the column block', () => {
    assert.equal(tabulate('a\tb\nno tabs here\nccccccccccccc\td\n'), 'a         b\nno tabs here\nccccccccccccc   d\n');
  });
  it('counts characters, not bytes', () => {
    assert.equal(tabulate('é…\tx\n'), 'é…        x\n');
  });
});

describe('cli list rows', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const created = Math.floor(Date.parse('2026-01-01T00:07:00Z') / 1000);
  it('ps table as docker prints it', () => {
    const c = {
      Id: '4a7f7eebae0f63178aff7eb0aa39f0627a203ab2df258c1a00b456cf20063e2d',
      Names: ['/web', '/other/alias'],
      Image: 'docker.io/library/busybox:latest@sha256:' + 'a'.repeat(64),
      ImageID: 'sha256:' + 'b'.repeat(64),
      Command: 'sh -c while true; do sleep 1; done',
      Created: created,
      Ports: [
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 443, Type: 'tcp' },
        { PrivatePort: 444, Type: 'tcp' },
      ],
      Labels: { b: '2', a: '1' },
      State: 'running',
      Status: 'Up 3 minutes',
      NetworkSettings: { Networks: { bridge: {}, app: {} } },
      Mounts: [{ Name: 'data', Source: '/var/lib/x', Driver: 'local' }, { Source: '/a/very/long/host/path' }],
    };
    const row = containerRow(c, { trunc: true, now });
    assert.equal(row.ID, '4a7f7eebae0f');
    assert.equal(row.Image, 'busybox:latest');
    assert.equal(row.Command, '"sh -c while true; d…"');
    assert.equal(row.RunningFor, '3 minutes ago');
    assert.equal(row.Ports, '443-444/tcp, 0.0.0.0:8080->80/tcp');
    assert.equal(row.Names, 'web');
    assert.equal(row.Labels, 'a=1,b=2');
    assert.equal(row.Networks, 'app,bridge');
    assert.equal(row.Mounts, 'data,/a/very/long/h…');
    assert.equal(row.LocalVolumes, '1');
    assert.equal(row.Size, '0B');
    const out = renderRows(parseFormat(undefined, PS_TABLE), [row], PS_HEADERS);
    assert.equal(
      out,
      'CONTAINER ID   IMAGE            COMMAND                  CREATED         STATUS         PORTS                               NAMES\n' +
        '4a7f7eebae0f   busybox:latest   "sh -c while true; d…"   3 minutes ago   Up 3 minutes   443-444/tcp, 0.0.0.0:8080->80/tcp   web\n',
    );
    const full = containerRow(c, { trunc: false, now });
    assert.equal(full.Names, 'web,other/alias');
    assert.equal(full.ID, c.Id);
    assert.equal(full.Command, JSON.stringify(c.Command));
  });
  it('ports: ranges by IP and protocol, IPv6 brackets', () => {
    assert.equal(
      displayablePorts([
        { IP: '0.0.0.0', PrivatePort: 9000, PublicPort: 9000, Type: 'udp' },
        { IP: '0.0.0.0', PrivatePort: 9001, PublicPort: 9001, Type: 'udp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 53, Type: 'udp' },
      ]),
      '53/udp, 0.0.0.0:9000-9001->9000-9001/udp, [::]:8080->80/tcp',
    );
    assert.equal(displayablePorts([]), '');
  });
  it('images: a row per tag, <none> for dangling, digests column', () => {
    const images = [
      { Id: 'sha256:' + '1'.repeat(64), RepoTags: ['busybox:latest', 'busybox:1', 'localhost:5000/bb:x'], RepoDigests: ['busybox@sha256:' + 'c'.repeat(64)], Created: created, Size: 4_261_234 },
      { Id: 'sha256:' + '2'.repeat(64), RepoTags: [], RepoDigests: [], Created: created, Size: 0 },
    ];
    const rows = imageRows(images, { trunc: true, digests: false, now });
    assert.deepEqual(
      rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size]),
      [
        ['busybox', 'latest', '111111111111', '3 minutes ago', '4.26MB'],
        ['busybox', '1', '111111111111', '3 minutes ago', '4.26MB'],
        ['localhost:5000/bb', 'x', '111111111111', '3 minutes ago', '4.26MB'],
        ['<none>', '<none>', '222222222222', '3 minutes ago', '0B'],
      ],
    );
    assert.equal(
      renderRows(parseFormat(undefined, IMAGES_TABLE), rows.slice(0, 1), IMAGE_HEADERS),
      'REPOSITORY   TAG       IMAGE ID       CREATED         SIZE\nbusybox      latest    111111111111   3 minutes ago   4.26MB\n',
    );
    const withDigests = imageRows(images.slice(0, 1), { trunc: true, digests: true, now });
    assert.equal(withDigests[0].Digest, 'sha256:' + 'c'.repeat(64));
    assert.equal(withDigests[2].Digest, '<none>');
    assert.ok(renderRows(parseFormat(undefined, IMAGES_TABLE_DIGESTS), withDigests, IMAGE_HEADERS).startsWith('REPOSITORY          TAG       DIGEST'));
  });
  it('history rows', () => {
    const rows = historyRows([{ Id: '<missing>', Created: created, CreatedBy: '/bin/sh -c #(nop)\tCMD ["sh" "-c" "a very long command line indeed"]', Size: 1234, Comment: '' }], { trunc: true, human: true, now });
    assert.deepEqual(rows[0], { Comment: '', CreatedAt: rows[0].CreatedAt, CreatedBy: '/bin/sh -c #(nop) CMD ["sh" "-c" "a very lon…', CreatedSince: '3 minutes ago', ID: '<missing>', Size: '1.23kB' });
  });
  it('network and volume tables', () => {
    const nets = [networkRow({ Id: 'f'.repeat(64), Name: 'bridge', Driver: 'bridge', Scope: 'local' }, { trunc: true })];
    assert.equal(renderRows(parseFormat(undefined, NETWORK_TABLE), nets, NETWORK_HEADERS), 'NETWORK ID     NAME      DRIVER    SCOPE\nffffffffffff   bridge    bridge    local\n');
    const vols = [volumeRow({ Name: 'data', Driver: 'local', Scope: 'local', Labels: { x: 'y' } })];
    assert.equal(renderRows(parseFormat(undefined, VOLUME_TABLE), vols, VOLUME_HEADERS), 'DRIVER    VOLUME NAME\nlocal     data\n');
    assert.equal(renderRows(parseFormat('{{.Name}} {{.Label "x"}}', VOLUME_TABLE), vols, VOLUME_HEADERS), 'data y\n');
  });
});

describe('cli progress and event rendering', () => {
  it('status lines, ids, build stream text as is; progress bar updates dropped', () => {
    assert.equal(renderMessage({ status: 'Pulling from library/busybox', id: 'latest' }), 'latest: Pulling from library/busybox\n');
    assert.equal(renderMessage({ status: 'Downloading', id: 'abc', progressDetail: { current: 10, total: 100 }, progress: '[=>   ]' }), '');
    assert.equal(renderMessage({ status: 'Download complete', id: 'abc', progressDetail: {} }), 'abc: Download complete\n');
    assert.equal(renderMessage({ stream: 'Step 1/2 : FROM busybox\n' }), 'Step 1/2 : FROM busybox\n');
    assert.equal(renderMessage({ aux: { ID: 'sha256:x' } }), '');
    assert.equal(renderMessage({ status: 'Digest: sha256:abc' }), 'Digest: sha256:abc\n');
  });
  it('an error message throws with errorDetail\'s text', () => {
    assert.throws(() => renderMessage({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }), (e: unknown) => e instanceof StreamError && e.message === 'manifest unknown');
    assert.throws(() => renderMessage({ error: 'plain' }), /plain/);
  });
  it('event lines: time, type, action, id and sorted attributes', () => {
    const prev = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      assert.equal(
        renderEvent({ Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { name: 'web', image: 'busybox' } }, time: 1704189600, timeNano: 1704189600123456789 }),
        '2024-01-02T10:00:00.123456768Z container start abc (image=busybox, name=web)\n',
      );
    } finally {
      if (prev === undefined) delete process.env.TZ;
      else process.env.TZ = prev;
    }
  });
});
