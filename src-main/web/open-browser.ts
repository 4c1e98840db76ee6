// Opens a URL in the user's default browser (xdg-open / open / start). Best effort: returns an error
// sentence instead of throwing, since the URL is printed anyway.
import { spawn } from 'node:child_process';

export function openInBrowser(url: string): Promise<string | null> {
  const [command, args]: [string, string[]] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args, { detached: true, stdio: 'ignore' });
      child.once('error', (error) => resolve(`could not open a browser (${command}: ${error.message})`));
      child.once('spawn', () => {
        child.unref();
        resolve(null);
      });
    } catch (error) {
      resolve(`could not open a browser (${command}: ${(error as Error).message})`);
    }
  });
}
