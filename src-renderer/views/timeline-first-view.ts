// Where a file's first timeline will be drawn, known before the Timeline mounts (it mounts once a trace is
// open): the API source asks for the first totals at this resolution together with the trace's overview
// (InspectorSource.takePrimedTimeline), and the Timeline starts at this width instead of a guess, so its
// first query is the one already asked for.
import type { FirstTimelineView, TimelineGroupBy } from '../data/source.ts';
import { timelineMargin } from './timeline-draw.ts';

/** The narrowest timeline canvas, CSS px. */
export const minTimelineWidth = 200;

/** The canvas's width before it is laid out when the app's is unknown (no layout: tests outside a page). */
const fallbackTimelineWidth = 800;

/**
 * The timeline canvas's width (CSS px): its wrapper spans the app's column (styles.css: `.timeline`, a
 * stretched flex item of `.app`, and `.timeline-canvas-wrap` at 100 %, neither with side padding).
 * Reading it lays the page out: call it once per open or mount, not per render.
 */
export function expectedTimelineWidth(doc: Document): number {
  const app = doc.querySelector('.app');
  const width = app ? Math.floor(app.clientWidth) : 0;
  return width > 0 ? Math.max(minTimelineWidth, width) : fallbackTimelineWidth;
}

/** The plot's width inside a canvas `width` CSS px wide (one bucket per pixel of it). */
export function timelinePlotWidth(width: number): number {
  return Math.max(1, width - timelineMargin.left - timelineMargin.right);
}

/** Where the next opened trace's timeline will be drawn: the expected plot width and the grouping. */
export function firstTimelineView(doc: Document, groupBy: TimelineGroupBy): FirstTimelineView {
  return { plotWidth: timelinePlotWidth(expectedTimelineWidth(doc)), groupBy };
}
