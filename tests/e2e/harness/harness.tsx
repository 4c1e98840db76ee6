// Browser harness for the inspector's e2e tests without a server: the real App and store over a
// MemorySource holding a generated workload (tests/support/ui-workload.ts). The test passes the device
// description and workload size in the URL hash and drives the page through window.__inspector.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { DeviceDescription } from '../../../allocator/index.ts';
import { App } from '../../../src-renderer/app.tsx';
import { MemorySource } from '../../../src-renderer/data/memory-source.ts';
import { StoreProvider, createInspectorStore } from '../../../src-renderer/store/store.ts';
import type { InspectorStore } from '../../../src-renderer/store/store.ts';
import '../../../src-renderer/styles.css';
import { buildWorkloadOn } from '../../support/ui-workload.ts';

declare global {
  interface Window {
    __inspector?: { store: InspectorStore; buildMs: number; leaked: readonly number[] };
    __harnessInput?: { device: DeviceDescription; ops: number; seed: number };
  }
}

const input = window.__harnessInput;
if (!input) throw new Error('the test must set window.__harnessInput before the harness runs');
const t0 = performance.now();
const work = buildWorkloadOn(input.device, { ops: input.ops, seed: input.seed, frameEvery: 1000 });
const source = new MemorySource({
  title: `harness-${input.ops}.trace`,
  device: input.device,
  data: work.log,
});
const buildMs = performance.now() - t0;
const store = createInspectorStore();
window.__inspector = { store, buildMs, leaked: work.leaked };
const el = document.getElementById('root');
if (!el) throw new Error('no #root');
createRoot(el).render(
  <StrictMode>
    <StoreProvider store={store}>
      <App />
    </StoreProvider>
  </StrictMode>,
);
void store.getState().connect(source);
