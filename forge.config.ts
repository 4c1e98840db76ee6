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

const config: ForgeConfig = {
  packagerConfig: {
    name: 'VRAMscope',
    executableName: 'vramscope',
    // The native Vulkan addon is unpacked from the asar by the auto-unpack-natives plugin.
    asar: true,
    // Device profiles, built-in scenarios and sample traces, beside app.asar (process.resourcesPath).
    extraResource: ['assets'],
    appBundleId: 'dev.vramscope.app',
  },
  rebuildConfig: {
    // Rebuild native/ (node-gyp) against Electron's headers when packaging on a user's machine.
    onlyModules: ['vramscope_vulkan'],
    force: true,
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
