export { DockerfileError } from './errors';
export { lexDockerfile, type RawNode, type LexedDockerfile } from './lexer';
export * from './instructions';
export { expandWord, splitWords, ExpansionError, type ExpansionEnv } from './shell';
export { parseDockerfile, stagesForTarget, resolveStageRef, type Dockerfile, type Stage } from './stages';
