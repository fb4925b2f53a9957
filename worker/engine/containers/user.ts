import { invalid } from '../../../shared/errors';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

const MAX_ID = 2 ** 31 - 1;

/**
 * Resolve a Docker user spec ("", "name", "uid", "uid:gid", "name:group", "uid:group"...)
 * against the image's /etc/passwd and /etc/group, as runc's user lookup does:
 *  - a name must exist in passwd; a bare uid need not (gid 0, home "/");
 *  - the group part overrides the primary gid; a group name must exist in group;
 *  - supplementary groups: the groups listing the user by name, plus `groupAdd`.
 */
export function resolveUser(spec: string, passwd: PasswdEntry[], groups: GroupEntry[], groupAdd: string[] = []): ResolvedUser {
  const [userPart, groupPart] = spec.includes(':') ? [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)] : [spec, undefined];
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (userPart === '') {
    entry = passwd.find((p) => p.uid === 0);
    uid = 0;
  } else if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    if (uid > MAX_ID) throw invalid(`invalid user "${spec}": uid ${userPart} is out of range`);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw invalid(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) {
      gid = Number(groupPart);
      if (gid > MAX_ID) throw invalid(`invalid user "${spec}": gid ${groupPart} is out of range`);
    } else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw invalid(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const extra = new Set<number>();
  // Supplementary groups come from the passwd name only when the group was not given explicitly.
  if (entry && groupPart === undefined) for (const g of groups) if (g.members.includes(entry.name)) extra.add(g.gid);
  for (const ga of groupAdd) {
    if (/^\d+$/.test(ga)) extra.add(Number(ga));
    else {
      const g = groups.find((x) => x.name === ga);
      if (!g) throw invalid(`unable to find group ${ga}: no matching entries in group file`);
      extra.add(g.gid);
    }
  }
  extra.delete(gid);
  return { uid, gid, additionalGids: [...extra].sort((a, b) => a - b), home: entry?.home || '/' };
}
