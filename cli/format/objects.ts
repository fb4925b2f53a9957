// Rows for networks and volumes (docker network ls / volume ls).
import { goTimeOf, truncateId } from './human';
import { contextRow, withMethods, type Row } from './formatter';

const labelList = (labels: Record<string, string> | null | undefined) =>
  Object.keys(labels ?? {})
    .sort()
    .map((k) => `${k}=${labels![k]}`)
    .join(',');

export interface NetworkSummary {
  Id: string;
  Name: string;
  Driver?: string;
  Scope?: string;
  Created?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}

export const NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
export const NETWORK_HEADERS: Row = withMethods(
  { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' },
  { Label: () => 'LABEL' },
);

export function networkRow(n: NetworkSummary, opts: { trunc: boolean }): Row {
  const labels = n.Labels ?? {};
  return contextRow(
    {
      CreatedAt: n.Created ? goTimeOf(n.Created) : '',
      Driver: n.Driver ?? '',
      ID: opts.trunc ? truncateId(n.Id) : n.Id,
      IPv4: String(n.EnableIPv4 ?? true),
      IPv6: String(n.EnableIPv6 ?? false),
      Internal: String(n.Internal ?? false),
      Labels: labelList(labels),
      Name: n.Name,
      Scope: n.Scope ?? '',
    },
    { Label: (k: unknown) => labels[String(k)] ?? '' },
  );
}

export interface VolumeSummary {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  Scope?: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

export const VOLUME_TABLE = 'table {{.Driver}}\t{{.Name}}';
export const VOLUME_HEADERS: Row = withMethods(
  { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Group: 'GROUP', Availability: 'AVAILABILITY', Status: 'STATUS' },
  { Label: () => 'LABEL' },
);

export function volumeRow(v: VolumeSummary): Row {
  const labels = v.Labels ?? {};
  return contextRow(
    {
      Availability: 'N/A',
      Driver: v.Driver ?? '',
      Group: 'N/A',
      Labels: labelList(labels),
      Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
      Mountpoint: v.Mountpoint ?? '',
      Name: v.Name,
      Scope: v.Scope ?? '',
      Size: v.UsageData && v.UsageData.Size >= 0 ? String(v.UsageData.Size) : 'N/A',
      Status: 'N/A',
    },
    { Label: (k: unknown) => labels[String(k)] ?? '' },
  );
}
