// `vramscope serve`: web mode. The UI and the API on 127.0.0.1 with a random token; runs until Ctrl-C.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { installRoot } from '../../runtime/install.ts';
import { CommandFailure, integerOption, stringOption, type Command } from '../command.ts';
import { userDataDir } from '../paths.ts';

/** Where `npm run build:renderer` puts the UI. */
export const defaultRendererDir = path.join(installRoot, 'dist', 'renderer');

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the UI and its API on 127.0.0.1 (web mode, for headless machines)',
  help: `Usage: vramscope serve [TRACE ...] [--port N] [--open] [--ui DIR] [--no-session] [--profiles-dir DIR]
                      [--allow-capture]

Serves the VRAMscope UI and its API (a WebSocket) on 127.0.0.1 only, and prints the URL to open:
it carries a random access token, which the browser then keeps in a cookie. Runs until Ctrl-C.
A session on the default device is opened at start, and each TRACE given is loaded.

Options:
  --port N       TCP port (default 0: a free port)
  --open         open the URL in the default browser
  --ui DIR       the built UI (default: dist/renderer, made by \`npm run build:renderer\`)
  --no-session   do not open the default device's session at start
  --profiles-dir DIR
                 where device profiles added in the Devices view are kept
                 (default: the user's data folder, e.g. ~/.local/share/vramscope/profiles)
  --allow-capture
                 let the page start programs under the capture layer (Capture view): anyone with the
                 URL's token can then run commands as you. Without it the page can only attach to a
                 \`vramscope capture --live\` you started yourself.`,
  options: {
    port: { type: 'string' },
    open: { type: 'boolean' },
    ui: { type: 'string' },
    'no-session': { type: 'boolean' },
    'profiles-dir': { type: 'string' },
    'allow-capture': { type: 'boolean' },
  },
  maxPositionals: 16,
  async run(values, positionals, io) {
    const port = integerOption(values, 'port', 0, 65535) ?? 0;
    const uiOption = stringOption(values, 'ui');
    const uiDir = uiOption === undefined ? defaultRendererDir : path.resolve(io.cwd, uiOption);
    const profilesDir = stringOption(values, 'profiles-dir');
    // Loaded here, not at the top: the app backend, the API schemas and the WebSocket server are most of
    // the CLI's code, and every other command (and `--help`) starts faster without them.
    const [{ AppBackend }, { startWebServer }, { openInBrowser }] = await Promise.all([
      import('../../api/app-backend.ts'),
      import('../../web/server.ts'),
      import('../../web/open-browser.ts'),
    ]);
    const backend = new AppBackend({
      allowCapture: values['allow-capture'] === true,
      userProfilesDir:
        profilesDir === undefined ? path.join(userDataDir(), 'profiles') : path.resolve(io.cwd, profilesDir),
    });
    let server;
    try {
      server = await startWebServer({
        port,
        staticDir: uiDir,
        dispatch: backend.dispatch,
        batcher: backend.batcher,
        uploads: backend.uploads,
      });
    } catch (error) {
      await backend.dispose();
      const code = (error as { code?: unknown }).code;
      if (code === 'EADDRINUSE') throw new CommandFailure(`port ${port} on 127.0.0.1 is already in use`);
      throw new CommandFailure(`cannot start the web server: ${(error as Error).message}`);
    }
    backend.prestart();
    if (values['no-session'] !== true) await backend.openDefaultSession();
    for (const trace of positionals) {
      try {
        // A trace on the command line is the user's word: it is granted to the page like a picked file.
        const grant = backend.grantFile(path.resolve(io.cwd, trace), 'command-line');
        await backend.loadTraceFile({ kind: 'file', fileId: grant.fileId }, undefined);
      } catch (error) {
        io.stderr.write(`vramscope serve: ${(error as Error).message}\n`);
      }
    }
    io.stdout.write(`VRAMscope web UI: ${server.url}\n`);
    if (!existsSync(path.join(uiDir, 'index.html'))) {
      io.stderr.write(
        `vramscope serve: the UI is not built in ${uiDir} (run \`npm run build:renderer\`); the API is up\n`,
      );
    }
    if (values.open === true) {
      const problem = await openInBrowser(server.url);
      if (problem) io.stderr.write(`vramscope serve: ${problem}; open the URL above yourself\n`);
    }
    const running = server;
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await running.close();
    await backend.dispose();
    return 0;
  },
};
