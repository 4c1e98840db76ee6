// Electron Forge: the desktop app's build (vite: main, preload, renderer), installers and fuses.
// `npm run start:electron` runs it in development, `npm run make` builds installers for this platform.
import type { ForgeConfig } from '@electron-forge/shared-types';
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerDMG } from '@electron-forge/maker-dmg';
import { MakerSquirrel } from '@electron-forge/maker-squirrel';
import { MakerZIP } from '@electron-forge/maker-zip';
import { AutoUnpackNativesPlugin } from '@electron-forge/plugin-auto-unpack-natives';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { VitePlugin } from '@electron-forge/plugin-vite';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { buildNativeForElectron, electronAddonPath } from './scripts/build-native-electron.mjs';

const config: ForgeConfig = {
  packagerConfig: {
    name: 'VRAMscope',
    executableName: 'vramscope',
    // app.asar holds .vite/ only (forge's vite plugin): main, preload, the scenario and trace workers and
    // their chunks (.vite/build/), the renderer (.vite/renderer/). The main-side bundles are also unpacked
    // beside it, so worker threads start from plain files (src-main/runtime/install.ts workerEntry).
    asar: { unpack: '**/.vite/build/*.js' },
    // Device profiles, built-in scenarios and sample traces, and the Vulkan addon built for Electron (its
    // own folder, native/build-electron/), beside app.asar (process.resourcesPath); main tells the
    // modules that load them where they are (VRAMSCOPE_ASSETS_DIR, VRAMSCOPE_NATIVE_ADDON).
    extraResource: ['assets', electronAddonPath],
    appBundleId: 'dev.vramscope.app',
  },
  rebuildConfig: { force: true },
  hooks: {
    // native/ is part of the app, not a dependency, so @electron/rebuild does not see it: build it against
    // Electron's headers into native/build-electron/ before packaging. native/build/ (Node's build, used
    // by the CLI and the tests) is never touched, so an aborted package leaves nothing broken.
    prePackage: async () => {
      buildNativeForElectron();
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
        icon: 'assets/icons/vramscope-256.png',
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
