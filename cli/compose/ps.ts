// compose ps rows: docker ps's fields for each container plus Name, Service and Project, in
// compose's default table (NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS).
import { containerRow, PS_HEADERS, type ContainerSummary } from '../format/containers';
import { contextRow, withMethods, type Row } from '../format/formatter';
import { PROJECT_LABEL, SERVICE_LABEL } from './labels';

export const COMPOSE_PS_TABLE = 'table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}';

export const COMPOSE_PS_HEADERS: Row = withMethods({ ...PS_HEADERS, Name: 'NAME', Service: 'SERVICE', Project: 'PROJECT', Health: 'HEALTH', ExitCode: 'EXIT CODE' }, { Label: () => 'LABEL' });

/** "healthy" from "Up 3 seconds (healthy)", as compose's Health field. */
function health(status: string): string {
  return /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1]?.replace('health: ', '') ?? '';
}

export function composePsRow(c: ContainerSummary, now = Date.now()): Row {
  const base = containerRow(c, { trunc: true, now });
  const labels = c.Labels ?? {};
  const exit = /^Exited \((-?\d+)\)/.exec(c.Status ?? '');
  const row: Row = {
    ...base,
    Name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    Service: labels[SERVICE_LABEL] ?? '',
    Project: labels[PROJECT_LABEL] ?? '',
    Health: health(c.Status ?? ''),
    ExitCode: exit ? Number(exit[1]) : 0,
  };
  return contextRow(row, { Label: (k: unknown) => labels[String(k)] ?? '' });
}
