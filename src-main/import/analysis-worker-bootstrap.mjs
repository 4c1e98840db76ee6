// Entry of the analysis worker thread. Worker threads do not inherit a loader registered with tsx's
// register() in the parent, so this plain-JS entry registers tsx itself and then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./analysis-worker.ts');
