// A Dockerfile as build stages: the ARGs before the first FROM (usable in FROM lines) and one
// stage per FROM, addressable by index or by its `AS name`.

import { invalid } from '../../../../shared/errors';
import { DockerfileError } from './errors';
import { parseInstruction, type ArgInstr, type FromInstr, type Instruction } from './instructions';
import { lexDockerfile } from './lexer';

export interface Stage {
  index: number;
  /** Lower-case stage name from `FROM x AS name`. */
  name?: string;
  from: FromInstr;
  commands: Exclude<Instruction, FromInstr>[];
}

export interface Dockerfile {
  metaArgs: ArgInstr[];
  stages: Stage[];
  escape: string;
  warnings: string[];
}

/** Parse a whole Dockerfile. Every error is a 400 naming the line. */
export function parseDockerfile(text: string, name = 'Dockerfile'): Dockerfile {
  const { nodes, escape, warnings } = lexDockerfile(text);
  if (nodes.length === 0) throw invalid(`the Dockerfile (${name}) cannot be empty`);
  const metaArgs: ArgInstr[] = [];
  const stages: Stage[] = [];
  const names = new Set<string>();
  for (const node of nodes) {
    const instr = parseInstruction(node, escape);
    if (instr.kind === 'FROM') {
      if (instr.stageName !== undefined) {
        if (names.has(instr.stageName)) throw new DockerfileError(instr.line, `duplicate stage name ${JSON.stringify(instr.stageName)}`);
        names.add(instr.stageName);
      }
      stages.push({ index: stages.length, name: instr.stageName, from: instr, commands: [] });
    } else if (stages.length === 0) {
      if (instr.kind !== 'ARG') throw new DockerfileError(instr.line, 'no build stage in current context');
      metaArgs.push(instr);
    } else {
      stages[stages.length - 1].commands.push(instr);
    }
  }
  if (stages.length === 0) throw invalid('No image was generated. Is your Dockerfile empty?');
  return { metaArgs, stages, escape, warnings };
}

/** The stages to build for `target` (all of them without one): up to and including the target. */
export function stagesForTarget(df: Dockerfile, target?: string): Stage[] {
  if (target === undefined || target === '') return df.stages;
  const t = target.toLowerCase();
  const i = df.stages.findIndex((s) => s.name === t);
  if (i < 0) throw invalid(`failed to reach build target ${target} in Dockerfile`);
  return df.stages.slice(0, i + 1);
}

/**
 * What `COPY --from=X` or `FROM X` names, seen from stage `current`: an earlier stage (by name
 * or index) or, failing that, an image reference.
 */
export function resolveStageRef(stages: Stage[], current: number, ref: string): { stage: number } | { image: string } {
  const lower = ref.toLowerCase();
  const byName = stages.findIndex((s) => s.name === lower);
  if (byName >= 0 && byName < current) return { stage: byName };
  if (byName === current) throw invalid(`invalid from flag value ${ref}: refers to current build stage`);
  if (/^\d+$/.test(ref)) {
    const i = parseInt(ref, 10);
    if (i >= current) throw invalid(`invalid from flag value ${ref}: refers to current build stage or a later one`);
    return { stage: i };
  }
  return { image: ref };
}
