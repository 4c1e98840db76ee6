// Pure trace analysis (no Node APIs): replay, snapshots, leaks, fragmentation, diffs and the LOD timeline.
export * from './analyze.ts';
export * from './report.ts';
export * from './reports.ts';
export * from './snapshot.ts';
export * from './timeline.ts';
export { ReplayState, seriesLayout, type Checkpoint, type SeriesLayout } from './replay.ts';
export * from './defrag.ts';
export * from './stack-frames.ts';
export * from './capture.ts';
export * from './allocation-bands.ts';
export { lowerBound, upperBound } from './sorted.ts';
