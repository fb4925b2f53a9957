import os from 'node:os';
import type { NodeDescription } from '../../shared/swarm';

const SHOAL_VERSION: string = require('../../../package.json').version;

/** What a node tells the managers about itself (Node.Description). */
export function describeNode(hostname: string, engineLabels: Record<string, string> = {}): NodeDescription {
  return {
    Hostname: hostname,
    Platform: { Architecture: os.arch() === 'x64' ? 'x86_64' : os.arch(), OS: 'linux' },
    Resources: { NanoCPUs: os.cpus().length * 1e9, MemoryBytes: os.totalmem() },
    Engine: { EngineVersion: SHOAL_VERSION, Labels: engineLabels, Plugins: [] },
  };
}
