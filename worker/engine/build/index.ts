// The classic Dockerfile builder (POST /build).
export { Builder, PreparedBuild, DEFAULT_SHELL, type BuildOptions, type BuilderPorts, type BuilderOptions, type PruneResult } from './builder';
export type { BuildImageStore, BuildContainers, BuildImage, CommitRequest, StepContainerSpec, OutputChunk } from './ports';
export { type BuildMessage } from './messages';
export { parseDockerfile, DockerfileError } from './dockerfile';
export { imageStorePort, containerManagerPort } from './adapters';
