#!/usr/bin/env node
// `npm run security:electron`: Electronegativity over the Electron shell; exits 1 on any finding or on any
// file it could not parse (an unparsed file is an unchecked file).
// Runs Electronegativity's programmatic runner: its CLI reads options as commander 2-style properties,
// and the commander that npm hoists next to it (7.x) no longer sets them, so `electronegativity -i DIR`
// only prints its usage. Usage: node scripts/electronegativity.mjs [DIR] (default src-main/electron).
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const input = path.resolve(process.argv[2] ?? 'src-main/electron');
const electronVersion = require('electron/package.json').version;
const run = require('@doyensec/electronegativity');

// The runner logs "Could not retrieve updated translations" when offline; keep our output to the point.
const quietLog = console.log;
console.log = () => {};
let result;
try {
  result = await run({
    input,
    output: undefined,
    isSarif: false,
    customScan: [],
    excludeFromScan: [],
    severitySet: undefined,
    confidenceSet: undefined,
    isRelative: true,
    isVerbose: true,
    electronUpgrade: undefined,
    electronVersionOverride: electronVersion,
    parserPlugins: [],
  });
} finally {
  console.log = quietLog;
}

const unparsed = result.errors.filter((e) => !e.tolerable);
for (const e of result.errors) {
  console.log(
    `${e.tolerable ? 'warning' : 'error'}: ${path.relative(process.cwd(), e.file)}: could not be parsed: ${e.message}`,
  );
}
for (const issue of result.issues) {
  const where = `${issue.file}:${issue.location?.line ?? 0}:${issue.location?.column ?? 0}`;
  console.log(
    `${issue.id} [${issue.severity?.name ?? '?'}/${issue.confidence?.name ?? '?'}] ${where}\n  ${issue.description}`,
  );
}
console.log(
  `electronegativity (Electron ${electronVersion}, ${result.globalChecks + result.atomicChecks} checks) on ${path.relative(process.cwd(), input) || '.'}: ${result.issues.length} finding(s), ${unparsed.length} unparsed file(s)`,
);
process.exitCode = result.issues.length > 0 || unparsed.length > 0 ? 1 : 0;
