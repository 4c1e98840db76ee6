// Finds and loads scenario scripts. A built-in name ("streaming") resolves to assets/scenarios/NAME.mjs; a
// path (anything with a slash or a .mjs/.js ending) is taken relative to the working directory. Loading a
// script runs it: scenarios are code the user chose to run (traces, in contrast, are never executed).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { assetsDir } from '../runtime/install.ts';
import { checkMeta } from './scenario-params.ts';
import type { ScenarioMeta, ScenarioModule } from './scenario-types.ts';

/** assets/scenarios/ (a function: the packaged app says where assets/ is at start-up). */
export function builtinScenarioDir(): string {
  return path.join(assetsDir(), 'scenarios');
}

export class ScenarioNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioNotFoundError';
  }
}

/** Names of the built-in scenarios (files in assets/scenarios/), sorted. */
export function builtinScenarioNames(): string[] {
  if (!existsSync(builtinScenarioDir())) return [];
  return readdirSync(builtinScenarioDir())
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => f.slice(0, -'.mjs'.length))
    .sort();
}

/** The absolute path of a scenario given by built-in name or by path. */
export function resolveScenarioPath(scenario: string, cwd: string): string {
  const looksLikePath = /[\\/]/.test(scenario) || /\.(mjs|js)$/.test(scenario);
  if (!looksLikePath) {
    const file = path.join(builtinScenarioDir(), `${scenario}.mjs`);
    if (/^[a-z0-9][a-z0-9-]*$/.test(scenario) && existsSync(file)) return file;
    throw new ScenarioNotFoundError(
      `no built-in scenario "${scenario}" (built-ins: ${builtinScenarioNames().join(', ')}; or give a path to a .mjs file)`,
    );
  }
  const file = path.resolve(cwd, scenario);
  if (!existsSync(file) || !statSync(file).isFile())
    throw new ScenarioNotFoundError(`scenario file ${file} does not exist`);
  return file;
}

export interface LoadedScenario {
  readonly file: string;
  readonly url: string;
  /** Base name used in origins ("streaming.mjs"). */
  readonly scriptName: string;
  readonly meta: ScenarioMeta;
  readonly run: ScenarioModule['run'];
}

/** Imports the script (running its top level) and checks its exports. */
export async function loadScenario(file: string): Promise<LoadedScenario> {
  const url = pathToFileURL(file).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const where = path.basename(file);
  const meta = checkMeta(mod.meta, where);
  if (typeof mod.run !== 'function')
    throw new ScenarioNotFoundError(`${where} does not export a run(ctx, params) function`);
  return { file, url, scriptName: where, meta, run: mod.run as ScenarioModule['run'] };
}

/**
 * The 1-based line of a syntax error in a script. Node 20 leaves the position of an ES module's syntax error
 * out of error.stack, so this asks `node --check` (only on that error path), which prints "FILE:LINE".
 */
export function syntaxErrorLine(file: string): number | null {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}:(\\d+)`).exec(check.stderr ?? '');
  return m ? Number(m[1]) : null;
}

export interface ScenarioCatalogEntry {
  /** The built-in name ("streaming"). */
  readonly name: string;
  readonly file: string;
  readonly meta: ScenarioMeta;
}

/**
 * The built-in scenarios with their metadata (for a scenario picker). Imports the shipped scripts in the
 * calling thread; user scripts are only ever loaded in the scenario worker.
 */
export async function builtinScenarioCatalog(): Promise<ScenarioCatalogEntry[]> {
  const out: ScenarioCatalogEntry[] = [];
  for (const name of builtinScenarioNames()) {
    const file = path.join(builtinScenarioDir(), `${name}.mjs`);
    const { meta } = await loadScenario(file);
    out.push({ name, file, meta });
  }
  return out;
}
