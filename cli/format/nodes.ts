// docker node ls rows and docker node inspect --pretty.
import { contextRow, withMethods, type Row } from './formatter';
import { bytesSize, goTimeUTC, prettyPrint } from './swarm';
import type { Node, TLSInfo } from './swarm-types';

export const NODE_TABLE = 'table {{.ID}} {{if .Self}}*{{else}} {{ end }}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}';
export const NODE_HEADERS: Row = withMethods(
  { ID: 'ID', Self: '', Hostname: 'HOSTNAME', Status: 'STATUS', Availability: 'AVAILABILITY', ManagerStatus: 'MANAGER STATUS', EngineVersion: 'ENGINE VERSION', TLSStatus: 'TLS STATUS' },
  {},
);

const emptyTLS = (t: TLSInfo | undefined) => !t || (!t.TrustRoot && !t.CertIssuerSubject && !t.CertIssuerPublicKey);

/** One node for node ls; `selfId` is this daemon's node (GET /info Swarm.NodeID), `clusterTLS` the swarm's TLS info. */
export function nodeRow(n: Node, selfId: string | undefined, clusterTLS?: TLSInfo): Row {
  const ms = n.ManagerStatus;
  const tls = n.Description?.TLSInfo;
  let tlsStatus = 'Unknown';
  if (!emptyTLS(clusterTLS) && !emptyTLS(tls)) {
    const same = tls!.TrustRoot === clusterTLS!.TrustRoot && tls!.CertIssuerSubject === clusterTLS!.CertIssuerSubject && tls!.CertIssuerPublicKey === clusterTLS!.CertIssuerPublicKey;
    tlsStatus = same ? 'Ready' : 'Needs Rotation';
  }
  return contextRow({
    Availability: prettyPrint(n.Spec?.Availability ?? ''),
    EngineVersion: n.Description?.Engine?.EngineVersion ?? '',
    Hostname: n.Description?.Hostname ?? '',
    ID: n.ID,
    ManagerStatus: prettyPrint(ms ? (ms.Leader ? 'Leader' : (ms.Reachability ?? '')) : ''),
    Self: selfId !== undefined && n.ID === selfId,
    Status: prettyPrint(n.Status?.State ?? ''),
    TLSStatus: tlsStatus,
  });
}

const sortedEntries = (m: Record<string, string> | null | undefined) =>
  Object.keys(m ?? {})
    .sort()
    .map((k) => [k, m![k]] as const);

/** docker node inspect --pretty for one node (ends with a newline). */
export function nodePretty(n: Node): string {
  const d = n.Description ?? {};
  const lines: string[] = [`ID:\t\t\t${n.ID}`];
  if (n.Spec?.Name) lines.push(`Name:\t\t\t${n.Spec.Name}`);
  const labels = sortedEntries(n.Spec?.Labels);
  if (labels.length) lines.push('Labels:', ...labels.map(([k, v]) => ` - ${k}${v ? `=${v}` : ''}`));
  lines.push(`Hostname:              \t${d.Hostname ?? ''}`, `Joined at:             \t${prettyPrint(goTimeUTC(n.CreatedAt))}`, 'Status:', ` State:\t\t\t${prettyPrint(n.Status?.State ?? '')}`);
  if (n.Status?.Message) lines.push(` Message:              \t${prettyPrint(n.Status.Message)}`);
  lines.push(` Availability:         \t${prettyPrint(n.Spec?.Availability ?? '')}`);
  if (n.Status?.Addr) lines.push(` Address:\t\t${n.Status.Addr}`);
  if (n.ManagerStatus) {
    const ms = n.ManagerStatus;
    lines.push('Manager Status:', ` Address:\t\t${ms.Addr ?? ''}`, ` Raft Status:\t\t${prettyPrint(ms.Reachability ?? '')}`, ` Leader:\t\t${ms.Leader ? 'Yes' : 'No'}`);
  }
  const cpus = Math.trunc((d.Resources?.NanoCPUs ?? 0) / 1e9);
  const mem = d.Resources?.MemoryBytes ? bytesSize(d.Resources.MemoryBytes) : '';
  lines.push('Platform:', ` Operating System:\t${d.Platform?.OS ?? ''}`, ` Architecture:\t\t${d.Platform?.Architecture ?? ''}`, 'Resources:', ` CPUs:\t\t\t${cpus}`, ` Memory:\t\t${mem}`);
  const plugins = d.Engine?.Plugins ?? [];
  if (plugins.length) {
    const byType = new Map<string, string[]>();
    for (const p of plugins) byType.set(p.Type!, [...(byType.get(p.Type!) ?? []), p.Name!]);
    lines.push('Plugins:', ...[...byType.keys()].sort().map((t) => ` ${t}:\t\t${byType.get(t)!.join(', ')}`));
  }
  lines.push(`Engine Version:\t\t${d.Engine?.EngineVersion ?? ''}`);
  const engineLabels = sortedEntries(d.Engine?.Labels);
  if (engineLabels.length) lines.push('Engine Labels:', ...engineLabels.map(([k, v]) => ` - ${k}${v ? `=${v}` : ''}`));
  if (!emptyTLS(d.TLSInfo)) {
    const t = d.TLSInfo!;
    lines.push('TLS Info:', ' TrustRoot:', `${t.TrustRoot ?? ''}`, ` Issuer Subject:\t${t.CertIssuerSubject ?? ''}`, ` Issuer Public Key:\t${t.CertIssuerPublicKey ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}
