// The CLI registry names each command without loading it (a command's module loads only when it runs):
// the names it lists must be the commands' own, and the overview must still list every command.
import { describe, expect, test } from 'vitest';
import { commands } from '../../src-main/cli/registry.ts';
import { runCliInProcess } from '../support/cli-in-process.ts';

describe('CLI registry', () => {
  test("each entry's name is the name of the command it loads, and names are unique", async () => {
    const loaded = await Promise.all(commands.map((c) => c.load()));
    expect(loaded.map((c) => c.name)).toEqual(commands.map((c) => c.name));
    expect(new Set(commands.map((c) => c.name)).size).toBe(commands.length);
  });

  test('the overview lists every command with its summary; an unknown command is a usage error', async () => {
    const help = await runCliInProcess(['--help'], process.cwd());
    expect(help.code).toBe(0);
    for (const c of await Promise.all(commands.map((e) => e.load())))
      expect(help.stdout).toMatch(
        new RegExp(`\\n  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\n`),
      );
    const unknown = await runCliInProcess(['no-such-command'], process.cwd());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "no-such-command"');
  });
});
