// shoal config create|ls|inspect|rm: the secret commands (secret.ts) with configs' columns and
// pretty form, which shows the data.
import { contextRow, withMethods } from '../format/formatter';
import { goTimeUTC } from '../format/swarm';
import { ago, labelList, payloadGroup, prettyLabels, type PayloadCli } from './secret';

export const CONFIG_CLI: PayloadCli = {
  noun: 'config',
  plural: 'configs',
  table: 'table {{.ID}}\t{{.Name}}\t{{.CreatedAt}}\t{{.UpdatedAt}}',
  headers: withMethods({ ID: 'ID', Name: 'NAME', CreatedAt: 'CREATED', UpdatedAt: 'UPDATED', Labels: 'LABELS' }, { Label: () => 'LABEL' }),
  row: (o, now) => {
    const labels = o.Spec?.Labels ?? {};
    return contextRow({ CreatedAt: ago(o.CreatedAt, now), ID: o.ID, Labels: labelList(labels), Name: o.Spec?.Name ?? '', UpdatedAt: ago(o.UpdatedAt, now) }, { Label: (k: unknown) => labels[String(k)] ?? '' });
  },
  pretty: (o) =>
    `ID:\t\t\t${o.ID}\nName:\t\t\t${o.Spec?.Name ?? ''}${prettyLabels(o.Spec?.Labels)}\nCreated at:            \t${goTimeUTC(o.CreatedAt)}\nUpdated at:            \t${goTimeUTC(o.UpdatedAt)}\nData:\n${Buffer.from(o.Spec?.Data ?? '', 'base64').toString()}\n`,
};

export const configGroup = payloadGroup(CONFIG_CLI, 'Manage Swarm configs');
