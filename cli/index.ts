export { main, runCli, buildProgram } from './main';
export { Cli, processIO, type CliIO } from './context';
export { CliClient } from './client';
export { resolveHost, normalizeHost, DEFAULT_HOST } from './host';
export { describeError, ExitError, cannotConnect, type ExitReport } from './errors';
export { ShoalCommand, registerGroup, list, csvList, type CommandGroup, type SubCommand } from './program';
export { GROUPS, INSPECT_TYPES, type InspectType } from './commands';
export { buildCreateRequest, type RunFlags, type CreateRequest } from './opts/run';
export { parseTemplate } from './format/template';
