// A stack for reading: Python frames first ("file:line function"), the C++ frames folded into one line that
// opens to every frame (allocator/analysis/stack-frames.ts). Stacks without frames are shown as they are.
import { useState } from 'react';
import type { ReactNode } from 'react';
import { foldStack } from '../../allocator/analysis/stack-frames.ts';

export function StackView(props: { stack: string; testId?: string }): ReactNode {
  const [all, setAll] = useState(false);
  const folded = foldStack(props.stack);
  if (folded === null)
    return (
      <pre className="stack" data-testid={props.testId}>
        {props.stack}
      </pre>
    );
  const shown = folded.python.length > 0 ? folded.python : folded.native.slice(0, 3);
  const hidden = folded.all.length - shown.length;
  return (
    <div className="stack-view" data-testid={props.testId}>
      <pre className="stack">{(all ? folded.all : shown).join('\n')}</pre>
      {hidden > 0 && (
        <button type="button" className="link" onClick={() => setAll(!all)}>
          {all
            ? 'fold the C++ frames'
            : `${hidden} C++ frame${hidden === 1 ? '' : 's'} folded (${folded.allocatorFrames} allocator, ${folded.runtimeFrames} interpreter/runtime): show all`}
        </button>
      )}
    </div>
  );
}
