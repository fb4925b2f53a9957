import type { CommandGroup } from '../program';
import { containerGroup } from './container';
import { imageGroup } from './image';
import { networkGroup } from './network';
import { volumeGroup } from './volume';
import { systemGroup } from './system';
import { swarmGroup } from './swarm';
import { nodeGroup } from './node';
import { serviceGroup } from './service';
import { secretGroup } from './secret';
import { configGroup } from './config';
import { composeGroup } from './compose';
import { stackGroup } from './stack';

/** Every command group, in help order. A new group (swarm, node, service, stack) is one module and one line here. */
export const GROUPS: CommandGroup[] = [containerGroup, imageGroup, networkGroup, volumeGroup, systemGroup, swarmGroup, nodeGroup, serviceGroup, secretGroup, configGroup, stackGroup, composeGroup];

export { INSPECT_TYPES, type InspectType } from './system';
