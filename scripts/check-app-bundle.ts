// The desktop app's build, checked without the Electron binary (it cannot be downloaded everywhere):
// 1. builds main (with the scenario and trace workers), preload and renderer exactly as `npm run package`
//    does, through forge's own vite config generator and the VitePlugin config in forge.config.ts, into .vite/;
// 2. lays out what the packaged app would hold in a temporary folder, away from the repository: app/ (the
//    asar's content: .vite/ and package.json) and resources/ (assets/ and the addon, forge's
//    extraResource);
// 3. checks that no bundle names a source file (src-main/, src-renderer/, allocator/, native/*.ts, tsx,
//    a .ts module, the repository's own path) and that no source maps are shipped;
// 4. loads main under Node with `electron` stubbed (scripts/app-bundle/electron-stub.mjs; the stub is used
//    in this check only) and drives it through its IPC handler: devices on the real Vulkan device, the
//    built-in scenarios, the default session, a sample trace loaded in the trace worker, a scenario run in
//    the scenario worker; and runs the preload with a stubbed `require('electron')`.
// Usage: node --import tsx scripts/check-app-bundle.ts [--keep]   (prints what it checked; exit 1 on failure)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build, type InlineConfig } from 'vite';
import forgeConfig from '../forge.config.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The production build `npm run package` makes, whoever runs this (vitest sets NODE_ENV=test, with which
// vite and React's JSX transform would make a development build that names every source file).
process.env.NODE_ENV = 'production';
const failures: string[] = [];
const fail = (message: string): void => {
  failures.push(message);
  process.stdout.write(`FAIL ${message}\n`);
};
const ok = (message: string): void => void process.stdout.write(`ok   ${message}\n`);

interface ViteConfigGeneratorLike {
  getBuildConfigs(): Promise<InlineConfig[]>;
  getRendererConfig(): Promise<InlineConfig[]>;
}
type GeneratorClass = new (
  pluginConfig: unknown,
  projectDir: string,
  isProd: boolean,
) => ViteConfigGeneratorLike;

/** Forge's own config generator (the one its prePackage hook uses), for the VitePlugin in forge.config.ts. */
async function forgeViteConfigs(): Promise<InlineConfig[]> {
  const plugin = (forgeConfig.plugins ?? []).find(
    (p): p is typeof p & { name: string; config: unknown } => (p as { name?: string }).name === 'vite',
  );
  if (!plugin) throw new Error('forge.config.ts has no vite plugin');
  const mod = (await import('@electron-forge/plugin-vite/dist/ViteConfig.js')) as {
    default: GeneratorClass | { default: GeneratorClass };
  };
  const Generator = 'default' in mod.default ? mod.default.default : mod.default;
  const generator = new Generator(plugin.config, repoRoot, true);
  return [...(await generator.getBuildConfigs()), ...(await generator.getRendererConfig())];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

async function buildApp(): Promise<void> {
  rmSync(path.join(repoRoot, '.vite'), { recursive: true, force: true });
  for (const config of await forgeViteConfigs()) {
    await build({ configFile: false, ...config, logLevel: 'warn' });
  }
}

/** The packaged layout: app/ = the asar's content, resources/ = forge's extraResource. */
function layOut(root: string): { app: string; resources: string } {
  const app = path.join(root, 'resources', 'app');
  const resources = path.join(root, 'resources');
  mkdirSync(app, { recursive: true });
  cpSync(path.join(repoRoot, '.vite'), path.join(app, '.vite'), { recursive: true });
  cpSync(path.join(repoRoot, 'package.json'), path.join(app, 'package.json'));
  cpSync(path.join(repoRoot, 'assets'), path.join(resources, 'assets'), { recursive: true });
  // The addon forge packs is the Electron build (native/build-electron/); Electron's headers cannot be
  // downloaded everywhere, and the addon uses Node-API only, so Node's build stands in when it is absent.
  const electronAddon = path.join(
    repoRoot,
    'native',
    'build-electron',
    'build',
    'Release',
    'vramscope_vulkan.node',
  );
  const nodeAddon = path.join(repoRoot, 'native', 'build', 'Release', 'vramscope_vulkan.node');
  const addon = existsSync(electronAddon) ? electronAddon : nodeAddon;
  if (existsSync(addon)) cpSync(addon, path.join(resources, 'vramscope_vulkan.node'));
  else fail('no native addon to pack (npm run build:native)');
  return { app, resources };
}

function checkNoSources(app: string): void {
  const files = filesUnder(path.join(app, '.vite'));
  const rel = (f: string): string => path.relative(app, f);
  const maps = files.filter((f) => f.endsWith('.map'));
  if (maps.length > 0) fail(`source maps in the app: ${maps.map(rel).join(', ')}`);
  const patterns: [RegExp, string][] = [
    [/src-main[\\/]/, 'src-main/'],
    [/src-renderer[\\/]/, 'src-renderer/'],
    [/["'`/]allocator[\\/][\w/-]+\.ts/, 'allocator/*.ts'],
    [/native[\\/]\w+\.ts/, 'native/*.ts'],
    [/["'](tsx|tsx\/[\w/]+)["']/, 'tsx'],
    [/\.tsx?["'`]/, 'a .ts module'],
  ];
  let hits = 0;
  for (const file of files.filter((f) => /\.(c?js|mjs|html)$/.test(f))) {
    const text = readFileSync(file, 'utf8');
    for (const [re, what] of [
      ...patterns,
      [new RegExp(repoRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the repository path'] as [
        RegExp,
        string,
      ],
    ]) {
      const m = re.exec(text);
      if (m) {
        hits++;
        fail(`${rel(file)} names ${what}: …${text.slice(Math.max(0, m.index - 40), m.index + 40)}…`);
      }
    }
  }
  const build = path.join(app, '.vite', 'build');
  const names = readdirSync(build);
  for (const need of [
    'main.js',
    'preload.cjs',
    'scenario-worker.js',
    'trace-worker.js',
    'analysis-worker.js',
  ])
    if (!names.includes(need)) fail(`.vite/build/${need} is missing (has: ${names.join(', ')})`);
  if (hits === 0)
    ok(`${files.length} files in .vite/ (${names.join(', ')}): no source paths, no source maps`);
}

function checkMain(app: string, resources: string, work: string): void {
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, 'scripts', 'app-bundle', 'load-main.mjs'),
      path.join(app, '.vite', 'build', 'main.js'),
    ],
    {
      cwd: work,
      encoding: 'utf8',
      timeout: 180_000,
      env: {
        PATH: process.env.PATH,
        HOME: work,
        VRAMSCOPE_STUB_RESOURCES: resources,
        ...(process.env.VK_ICD_FILENAMES ? { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES } : {}),
      },
    },
  );
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0) {
    fail(`main under Node with electron stubbed: exit ${r.status}\n${r.stdout}${r.stderr}`);
    return;
  }
  const seen = JSON.parse(line) as {
    devices: string[];
    scenarios: string[];
    session: string;
    sampleTraces: string[];
    run: { state: string; opsDone: number };
    preload: string[];
    rendererPage?: { status: number; csp: boolean };
  };
  if (seen.devices.length === 0) fail(`main found no Vulkan device: ${line}`);
  if (!seen.scenarios.includes('streaming'))
    fail(`main lists no built-in scenarios from resources/assets: ${line}`);
  if (seen.sampleTraces.length === 0) fail(`main lists no sample traces from resources/assets: ${line}`);
  if (seen.run.state !== 'finished' || seen.run.opsDone === 0)
    fail(`the scenario run did not finish: ${line}`);
  if (!seen.preload.every((p) => existsSync(p)))
    fail(`the preload main registers is missing: ${seen.preload.join(', ')}`);
  if (seen.rendererPage?.status !== 200 || !seen.rendererPage.csp)
    fail(`app://vramscope/index.html is not served with its CSP: ${JSON.stringify(seen.rendererPage)}`);
  if (stderrProblems(r.stderr)) fail(`main wrote to stderr:\n${r.stderr}`);
  ok(
    `main (packaged layout, electron stubbed) in ${Date.now() - started} ms: devices [${seen.devices.join(', ')}], ` +
      `session on ${seen.session}, ${seen.scenarios.length} scenarios, sample trace loaded (trace worker), ` +
      `streaming run ${seen.run.state} after ${seen.run.opsDone} ops (scenario worker)`,
  );
}

/** stderr lines other than the scenario's own log lines and Node's notice about loader hooks. */
function stderrProblems(stderr: string): boolean {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .some((l) => !/^\[streaming\]|ExperimentalWarning|--trace-warnings/.test(l));
}

function checkPreload(app: string): void {
  const file = path.join(app, '.vite', 'build', 'preload.cjs');
  const exposed = new Map<string, unknown>();
  const invoked: string[] = [];
  const sentPaths: unknown[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    // A File the user dropped has a path; one the page made has none ('').
    webUtils: { getPathForFile: (file: { path?: string }) => file.path ?? '' },
    ipcRenderer: {
      invoke: (channel: string, arg: unknown) => {
        invoked.push(channel);
        if (channel === 'vramscope:grant-local-file') sentPaths.push(arg);
        return Promise.resolve({ t: 'res', id: 1, ok: true, result: {} });
      },
      on: () => undefined,
      removeListener: () => undefined,
    },
  };
  const required: string[] = [];
  const sandboxRequire = (name: string): unknown => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`the sandboxed preload may only require electron, not ${name}`);
  };
  const module = { exports: {} };
  vm.runInNewContext(
    readFileSync(file, 'utf8'),
    { require: sandboxRequire, module, exports: module.exports },
    {
      filename: file,
    },
  );
  const bridge = exposed.get('vramscope') as
    { request?: unknown; subscribe?: unknown; grantLocalFile?: unknown } | undefined;
  if (
    !bridge ||
    typeof bridge.request !== 'function' ||
    typeof bridge.subscribe !== 'function' ||
    typeof bridge.grantLocalFile !== 'function'
  ) {
    fail(
      `the preload does not expose window.vramscope {request, subscribe, grantLocalFile}: ${[...exposed.keys()].join(', ')}`,
    );
    return;
  }
  if (Object.keys(bridge).length !== 3) fail(`the preload exposes more: ${Object.keys(bridge).join(', ')}`);
  void (bridge.request as (f: unknown) => Promise<unknown>)({
    t: 'req',
    id: 1,
    name: 'getState',
    params: {},
  });
  if (invoked[0] !== 'vramscope:request') fail(`the preload's request went to ${invoked[0]}`);
  // grantLocalFile: a File with a path sends that path to main on its own channel; one without sends nothing.
  const grant = bridge.grantLocalFile as (f: unknown) => Promise<unknown>;
  void grant({ name: 'made-in-page.trace' });
  void grant({ name: 'dropped.trace', path: '/data/dropped.trace' });
  if (
    sentPaths.length !== 1 ||
    sentPaths[0] !== '/data/dropped.trace' ||
    invoked[1] !== 'vramscope:grant-local-file'
  )
    fail(`the preload's grantLocalFile sent ${JSON.stringify(sentPaths)} on ${invoked.slice(1).join(', ')}`);
  ok(
    `preload.cjs: requires only [${[...new Set(required)].join(', ')}], exposes vramscope {request, subscribe, grantLocalFile}`,
  );
}

const keep = process.argv.includes('--keep');
const work = mkdtempSync(path.join(tmpdir(), 'vramscope-app-bundle-'));
try {
  const started = Date.now();
  await buildApp();
  ok(
    `built .vite/ with forge's vite config (main, workers, preload, renderer) in ${Date.now() - started} ms`,
  );
  const { app, resources } = layOut(work);
  checkNoSources(app);
  checkPreload(app);
  checkMain(app, resources, work);
} catch (error) {
  fail(`check-app-bundle: ${(error as Error).stack ?? String(error)}`);
} finally {
  if (keep) process.stdout.write(`kept ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
}
process.stdout.write(
  failures.length === 0 ? 'app bundle check: ok\n' : `app bundle check: ${failures.length} failure(s)\n`,
);
process.exitCode = failures.length === 0 ? 0 : 1;
