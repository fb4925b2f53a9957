// The JSON message stream of a classic build, as `docker build` prints it.

import { shortId } from '../../../shared/ids';

export type BuildMessage =
  | { stream: string }
  | { aux: { ID: string } }
  | { errorDetail: { message: string; code?: number }; error: string };

export const msg = {
  stream: (text: string): BuildMessage => ({ stream: text }),
  step: (n: number, total: number, original: string): BuildMessage => ({ stream: `Step ${n}/${total} : ${original}\n` }),
  image: (id: string | undefined): BuildMessage => ({ stream: ` ---> ${id ? shortId(id) : ''}\n` }),
  runningIn: (containerId: string): BuildMessage => ({ stream: ` ---> Running in ${shortId(containerId)}\n` }),
  usingCache: (): BuildMessage => ({ stream: ' ---> Using cache\n' }),
  removing: (containerId: string): BuildMessage => ({ stream: `Removing intermediate container ${shortId(containerId)}\n` }),
  aux: (id: string): BuildMessage => ({ aux: { ID: id } }),
  built: (id: string): BuildMessage => ({ stream: `Successfully built ${shortId(id)}\n` }),
  tagged: (tag: string): BuildMessage => ({ stream: `Successfully tagged ${tag}\n` }),
  error: (message: string): BuildMessage => ({ errorDetail: { message }, error: message }),
};

/** Docker shows a RUN step's stderr in red in the build output. */
export function stderrText(text: string): string {
  return `\u001b[91m${text}\u001b[0m`;
}
