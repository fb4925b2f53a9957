import { join } from 'node:path';
import type { DaemonConfig } from '../../daemon/config';

/** Where a daemon keeps container data (persistent) and runtime state (per boot, per daemon). */
export class ContainerPaths {
  constructor(private readonly config: DaemonConfig) {}

  /**
   * <dataRoot>/containers-removed: directories of removed containers, renamed here to be deleted
   * after the removal has answered (same filesystem as `root`, so the rename is one step).
   */
  get trash(): string {
    return join(this.config.dataRoot, 'containers-removed');
  }

  /** <dataRoot>/containers: one directory per container. */
  get root(): string {
    return join(this.config.dataRoot, 'containers');
  }
  dir(id: string): string {
    return join(this.root, id);
  }
  record(id: string): string {
    return join(this.dir(id), 'config.v2.json');
  }
  upper(id: string): string {
    return join(this.dir(id), 'upper');
  }
  work(id: string): string {
    return join(this.dir(id), 'work');
  }
  merged(id: string): string {
    return join(this.dir(id), 'merged');
  }
  /** Per-container init layer of containers created before the shared one (still in their records). */
  init(id: string): string {
    return join(this.dir(id), 'init');
  }
  /**
   * <dataRoot>/init-layer: the init layer every container stacks on its image. Its mount points
   * are the same for all, so it is made once instead of once per container.
   */
  get sharedInit(): string {
    return join(this.config.dataRoot, 'init-layer');
  }
  log(id: string): string {
    return join(this.dir(id), `${id}-json.log`);
  }
  hosts(id: string): string {
    return join(this.dir(id), 'hosts');
  }
  resolvConf(id: string): string {
    return join(this.dir(id), 'resolv.conf');
  }
  hostname(id: string): string {
    return join(this.dir(id), 'hostname');
  }

  /** <execRoot>/containers/<id>: the OCI bundle and conmon's files (attach, ctl, pidfile, oom). */
  get bundles(): string {
    return join(this.config.execRoot, 'containers');
  }
  bundle(id: string): string {
    return join(this.bundles, id);
  }
  execDir(id: string, execId: string): string {
    return join(this.bundle(id), 'exec', execId);
  }
  /** conmon writes <exits>/<id> when a container's process ends. */
  get exits(): string {
    return join(this.config.execRoot, 'exits');
  }
  exitFile(id: string): string {
    return join(this.exits, id);
  }
  /** Short symlinks to bundles (conmon --socket-dir-path), keeping socket paths under 108 bytes. */
  get sockets(): string {
    return join(this.config.execRoot, 'sock');
  }
  attachSocket(cuuid: string): string {
    return join(this.sockets, cuuid, 'attach');
  }
  runtimeRoot(name: string): string {
    return join(this.config.execRoot, `runtime-${name}`);
  }
  cgroup(id: string): string {
    return `${this.config.cgroupParent.replace(/\/+$/, '')}/${id}`;
  }
}

/** The conmon socket name (-u) of a container: its short ID. */
export function cuuidOf(id: string): string {
  return id.slice(0, 12);
}
