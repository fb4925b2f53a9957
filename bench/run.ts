// Runs the benchmarks and prints their figures beside baselines measured in the same run.
import { engineBench } from './engine';
import { schedulerBench } from './scheduler';

const suites: Record<string, () => Promise<void>> = { engine: engineBench, scheduler: schedulerBench };
suites['swarm-scheduler'] = () => import('./swarm-scheduler').then((m) => m.swarmSchedulerBench());
suites.swarm = () => import('./swarm').then((m) => m.swarmBench());
suites.dispatcher = () => import('./dispatcher').then((m) => m.dispatcherBench());
suites.network = () => import('./network').then((m) => m.networkBench());
suites.ha = () => import('./ha').then((m) => m.haBench());

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const [name, fn] of Object.entries(suites)) {
    if (wanted.length && !wanted.includes(name)) continue;
    console.log(`# ${name}`);
    await fn();
  }
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
