// The Capture view's command-line splitting (src-renderer/views/capture.tsx): words as a POSIX shell splits
// them, with quotes and backslashes, and nothing else a shell does (the argv is shown for confirmation and
// sent as is; no shell ever sees it).
import { describe, expect, test } from 'vitest';
import { splitCommandLine } from '../../src-renderer/views/capture.tsx';

describe('splitCommandLine', () => {
  test('whitespace separates words; quotes and backslashes keep them together', () => {
    expect(splitCommandLine('  vkcube   --c 100 ')).toEqual(['vkcube', '--c', '100']);
    expect(splitCommandLine(`./app --name 'two words' "say \\"hi\\"" a\\ b ''`)).toEqual([
      './app',
      '--name',
      'two words',
      'say "hi"',
      'a b',
      '',
    ]);
    expect(splitCommandLine(`x'y'"z"`)).toEqual(['xyz']);
  });

  test('shell syntax is not interpreted: variables, globs, pipes and ; stay literal words', () => {
    expect(splitCommandLine('app $HOME *.trace | tee x; rm -rf /')).toEqual([
      'app',
      '$HOME',
      '*.trace',
      '|',
      'tee',
      'x;',
      'rm',
      '-rf',
      '/',
    ]);
  });

  test('an unterminated quote is an error in one sentence; an empty line is no words', () => {
    expect(() => splitCommandLine(`app 'open`)).toThrow(/unterminated single quote/);
    expect(() => splitCommandLine(`app "open`)).toThrow(/unterminated double quote/);
    expect(splitCommandLine('   ')).toEqual([]);
  });
});
