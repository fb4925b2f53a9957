import type { CommandGroup } from '../program';
import { containerGroup } from './container';
import { imageGroup } from './image';
import { networkGroup } from './network';
import { volumeGroup } from './volume';
import { systemGroup } from './system';

/** Every command group, in help order. A new group (swarm, node, service, stack) is one module and one line here. */
export const GROUPS: CommandGroup[] = [containerGroup, imageGroup, networkGroup, volumeGroup, systemGroup];

export { INSPECT_TYPES, type InspectType } from './system';
