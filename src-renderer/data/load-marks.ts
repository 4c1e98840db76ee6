// User Timing marks of opening a picked or dropped file (issue 11: drop -> first drawn timeline), one per
// phase, in the page's performance timeline: scripts/bench-pytorch-import.ts reads them to print each
// phase's time, and a browser's Performance panel shows them. Marks cost a few microseconds each and
// accumulate only per opened file (four); `performance.clearMarks` on each new open keeps one open's.
export const loadMarks = {
  /** The file was handed to the source (picked or dropped). */
  started: 'vramscope:load-started',
  /** Every byte of an upload was acknowledged by the server (absent when nothing was uploaded). */
  uploaded: 'vramscope:load-uploaded',
  /** The server answered loadTrace / importFile: the trace is loaded (imported) and analysed there. */
  imported: 'vramscope:load-imported',
  /** The overview (report, time index, state) is here: the views can draw (leak markers come after). */
  overview: 'vramscope:load-overview',
} as const;

export type LoadMark = (typeof loadMarks)[keyof typeof loadMarks];

/** Sets `mark` (where the User Timing API exists); `started` first clears the previous open's marks. */
export function markLoad(mark: LoadMark): void {
  if (typeof performance === 'undefined' || typeof performance.mark !== 'function') return;
  if (mark === loadMarks.started) for (const m of Object.values(loadMarks)) performance.clearMarks(m);
  performance.mark(mark);
}
