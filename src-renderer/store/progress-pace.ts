// Paces what the progress bar shows while a file opens: the first update and every change of phase at
// once, otherwise at most one update per interval, always the newest (one held back is shown when its
// interval ends, so the bar never stops short of what arrived). Progress comes from two places at once,
// the browser's upload events (about every 50 ms) and the server's progress events (up to ~30 a second),
// and every update shown is a React render, a layout and a raster of the bar, on the same cores as the
// upload and the import: on the 2-core machine class, showing every update cost the page about 0.08 s of
// CPU in a 1M-entry snapshot's open (docs/importers.md, twelfth pass). Eight a second look as smooth.

/** How often the bar changes at most while a phase lasts (ms). */
export const progressIntervalMs = 125;

export interface ProgressPace<T> {
  /** A new update: shown now, or held until its interval ends (replacing any update held before). */
  push(update: T): void;
  /** Drops a held update (the load ended: nothing more is shown). */
  cancel(): void;
}

/** Paces `show` (see the file's head); `phaseOf` tells updates of different phases apart. */
export function paceProgress<T>(
  show: (update: T) => void,
  phaseOf: (update: T) => string | undefined = () => undefined,
  everyMs: number = progressIntervalMs,
): ProgressPace<T> {
  /** When the last update was shown (performance.now() ms; -Infinity before the first). */
  let shownAt = -Infinity;
  let shownPhase: string | undefined;
  let held: { update: T } | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const showNow = (update: T): void => {
    shownAt = performance.now();
    shownPhase = phaseOf(update);
    show(update);
  };
  const showHeld = (): void => {
    timer = null;
    const h = held;
    held = null;
    if (h !== null) showNow(h.update);
  };

  return {
    push(update) {
      const wait = shownAt + everyMs - performance.now();
      if (wait <= 0 || phaseOf(update) !== shownPhase) {
        // Shown now; one held from before is older and gives way to it.
        held = null;
        if (timer !== null) clearTimeout(timer);
        timer = null;
        showNow(update);
        return;
      }
      held = { update };
      timer ??= setTimeout(showHeld, wait);
    },
    cancel() {
      held = null;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
