// Checks a scenario's `meta` and the parameters a user passes against it (types, ranges), with one clear
// sentence per problem. CLI values arrive as strings ("k=v") and are converted by the declared type.
import { printable } from '../../allocator/text/printable.ts';
import type { ParamSpec, ParamValue, ScenarioMeta, ScenarioParams } from './scenario-types.ts';

export class ScenarioParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioParamError';
  }
}

const paramTypes = new Set(['number', 'integer', 'boolean', 'string', 'file']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks that a module's `meta` export has the declared shape; `where` names the script in errors. */
export function checkMeta(meta: unknown, where: string): ScenarioMeta {
  if (!isRecord(meta)) throw new ScenarioParamError(`${where} does not export a \`meta\` object`);
  if (typeof meta.name !== 'string' || meta.name === '')
    throw new ScenarioParamError(`${where}: meta.name must be a non-empty string`);
  if (typeof meta.description !== 'string')
    throw new ScenarioParamError(`${where}: meta.description must be a string`);
  const parameters = meta.parameters ?? {};
  if (!isRecord(parameters)) throw new ScenarioParamError(`${where}: meta.parameters must be an object`);
  const checked: Record<string, ParamSpec> = {};
  for (const [key, spec] of Object.entries(parameters)) {
    if (!isRecord(spec) || typeof spec.type !== 'string' || !paramTypes.has(spec.type))
      throw new ScenarioParamError(
        `${where}: parameter "${printable(key, 100)}" needs a type of number, integer, boolean, string or file`,
      );
    const type = spec.type as ParamSpec['type'];
    for (const bound of ['min', 'max'] as const) {
      if (spec[bound] !== undefined && (typeof spec[bound] !== 'number' || !Number.isFinite(spec[bound])))
        throw new ScenarioParamError(
          `${where}: parameter "${printable(key, 100)}" has a non-numeric ${bound}`,
        );
    }
    const base: ParamSpec = {
      type,
      default: spec.default as ParamValue,
      description: typeof spec.description === 'string' ? spec.description : '',
      ...(typeof spec.min === 'number' ? { min: spec.min } : {}),
      ...(typeof spec.max === 'number' ? { max: spec.max } : {}),
    };
    checkValue(key, base, spec.default, `${where}: the default of parameter "${printable(key, 100)}"`);
    checked[key] = base;
  }
  return { name: meta.name, description: meta.description, parameters: checked };
}

function checkValue(key: string, spec: ParamSpec, value: unknown, what: string): ParamValue {
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new ScenarioParamError(`${what} must be true or false`);
      return value;
    case 'string':
    case 'file':
      if (typeof value !== 'string') throw new ScenarioParamError(`${what} must be a string`);
      return value;
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new ScenarioParamError(`${what} must be a finite number`);
      if (spec.type === 'integer' && !Number.isSafeInteger(value))
        throw new ScenarioParamError(`${what} must be an integer, got ${value}`);
      if (spec.min !== undefined && value < spec.min)
        throw new ScenarioParamError(`${what} must be at least ${spec.min}, got ${value}`);
      if (spec.max !== undefined && value > spec.max)
        throw new ScenarioParamError(`${what} must be at most ${spec.max}, got ${value}`);
      return value;
    }
  }
  throw new ScenarioParamError(`parameter "${printable(key, 100)}" has an unknown type`);
}

/** Converts one CLI string to the parameter's type. */
export function parseParamString(key: string, spec: ParamSpec, text: string): ParamValue {
  switch (spec.type) {
    case 'string':
    case 'file':
      return text;
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      throw new ScenarioParamError(
        `parameter "${printable(key, 100)}" must be true or false, got "${printable(text, 100)}"`,
      );
    case 'number':
    case 'integer': {
      const n = text.trim() === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(n))
        throw new ScenarioParamError(
          `parameter "${printable(key, 100)}" must be a number, got "${printable(text, 100)}"`,
        );
      return n;
    }
  }
  throw new ScenarioParamError(`parameter "${printable(key, 100)}" has an unknown type`);
}

/**
 * Fills defaults and checks every given value. `given` values may be strings (from the CLI), converted by the
 * declared type, or already typed values (from the UI).
 */
export function resolveParams(
  meta: ScenarioMeta,
  given: Readonly<Record<string, ParamValue>>,
): ScenarioParams {
  const out: Record<string, ParamValue> = {};
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(meta.parameters, key)) {
      const known = Object.keys(meta.parameters);
      throw new ScenarioParamError(
        `scenario "${meta.name}" has no parameter "${printable(key, 100)}"${known.length ? ` (it has: ${known.join(', ')})` : ' (it takes none)'}`,
      );
    }
  }
  for (const [key, spec] of Object.entries(meta.parameters)) {
    if (!Object.hasOwn(given, key)) {
      out[key] = spec.default;
      continue;
    }
    let value = given[key] as ParamValue;
    if (typeof value === 'string' && spec.type !== 'string') value = parseParamString(key, spec, value);
    out[key] = checkValue(key, spec, value, `parameter "${printable(key, 100)}"`);
  }
  return out;
}

/** Splits CLI "k=v" strings into a record; a repeated key is an error. */
export function parseParamAssignments(assignments: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ScenarioParamError(`--param needs key=value, got "${printable(a, 100)}"`);
    const key = a.slice(0, eq);
    if (Object.hasOwn(out, key))
      throw new ScenarioParamError(`--param ${printable(key, 100)} is given twice`);
    out[key] = a.slice(eq + 1);
  }
  return out;
}
