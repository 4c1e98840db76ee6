// Runs the CLI's `main` in this process with captured output, for tests that check what a command prints
// and its exit code without spawning the built CLI.
import { Writable } from 'node:stream';
import { main } from '../../src-main/cli/main.ts';

function textSink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      w.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

/** `vramscope <args…>` run in `cwd`: its exit code and everything it wrote. */
export async function runCliInProcess(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = textSink();
  const stderr = textSink();
  const code = await main(args, { stdout, stderr, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
