// The scenarios the API offers: the built-ins in assets/scenarios/, with their meta (parameters with types,
// defaults and ranges) read once per process.
import { builtinScenarioNames, loadScenario, resolveScenarioPath } from '../session/scenario-loader.ts';
import type { ScenarioMeta as EngineMeta } from '../session/scenario-types.ts';
import type { ScenarioMeta } from './contract.ts';

interface Entry {
  readonly id: string;
  readonly meta: EngineMeta;
}

let cache: Promise<Entry[]> | null = null;

async function load(cwd: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const id of builtinScenarioNames()) {
    const loaded = await loadScenario(resolveScenarioPath(id, cwd));
    out.push({ id, meta: loaded.meta });
  }
  return out;
}

function entries(cwd: string): Promise<Entry[]> {
  if (!cache) {
    cache = load(cwd);
    cache.catch(() => {
      cache = null;
    });
  }
  return cache;
}

export async function listBuiltinScenarios(cwd: string): Promise<ScenarioMeta[]> {
  return (await entries(cwd)).map(({ id, meta }) => ({
    id,
    name: meta.name,
    description: meta.description,
    builtin: true,
    params: Object.entries(meta.parameters).map(([name, spec]) => ({
      name,
      type: spec.type,
      description: spec.description,
      default: spec.default,
      ...(spec.min === undefined ? {} : { min: spec.min }),
      ...(spec.max === undefined ? {} : { max: spec.max }),
    })),
  }));
}

/** The engine's meta of a built-in scenario, or null when `id` is not one. */
export async function builtinScenarioMeta(id: string, cwd: string): Promise<EngineMeta | null> {
  return (await entries(cwd)).find((e) => e.id === id)?.meta ?? null;
}
