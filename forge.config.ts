// Electron Forge: the desktop app's build (vite: main, preload, renderer), installers and fuses.
// `npm run start:electron` runs it in development, `npm run make` builds installers for this platform.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerDMG } from '@electron-forge/maker-dmg';
import { MakerSquirrel } from '@electron-forge/maker-squirrel';
import { MakerZIP } from '@electron-forge/maker-zip';
import { AutoUnpackNativesPlugin } from '@electron-forge/plugin-auto-unpack-natives';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { VitePlugin } from '@electron-forge/plugin-vite';
import { FuseV1Options, FuseVersion } from '@electron/fuses';

const require = createRequire(import.meta.url);
const electronVersion = (require('electron/package.json') as { version: string }).version;

const config: ForgeConfig = {
  packagerConfig: {
    name: 'VRAMscope',
    executableName: 'vramscope',
    // The native Vulkan addon is unpacked from the asar by the auto-unpack-natives plugin.
    asar: true,
    // Device profiles, built-in scenarios and sample traces, and the Vulkan addon built for Electron, beside
    // app.asar (process.resourcesPath); main points the native facade at the addon there.
    extraResource: ['assets', 'native/build/Release/vramscope_vulkan.node'],
    appBundleId: 'dev.vramscope.app',
  },
  rebuildConfig: { force: true },
  hooks: {
    // native/ is part of the app, not a dependency, so @electron/rebuild does not see it: build it against
    // Electron's headers (its ABI differs from Node's) before packaging.
    prePackage: async () => {
      execFileSync(
        process.execPath,
        [
          require.resolve('node-gyp/bin/node-gyp.js'),
          'rebuild',
          '--directory',
          'native',
          `--target=${electronVersion}`,
          '--dist-url=https://electronjs.org/headers',
        ],
        { stdio: 'inherit' },
      );
    },
    // Put the Node build back for the CLI and the tests (the packaged app keeps its Electron copy).
    postPackage: async () => {
      execFileSync('npm', ['run', '--silent', 'build:native'], { stdio: 'inherit' });
    },
  },
  makers: [
    new MakerSquirrel({ name: 'VRAMscope' }),
    new MakerZIP({}, ['darwin', 'linux']),
    new MakerDMG({ format: 'ULFO' }),
    new MakerDeb({
      options: {
        name: 'vramscope',
        productName: 'VRAMscope',
        categories: ['Development'],
        depends: ['libvulkan1'],
      },
    }),
  ],
  plugins: [
    new AutoUnpackNativesPlugin({}),
    new VitePlugin({
      build: [
        { entry: 'src-main/electron/main.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'src-main/electron/preload.ts', config: 'vite.preload.config.ts', target: 'preload' },
      ],
      renderer: [{ name: 'main_window', config: 'vite.renderer.config.ts' }],
    }),
    // Fuses are flipped in the packaged binary, before signing.
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    }),
  ],
};

export default config;
