// Entry of the renderer (vite builds it for web mode and for Electron): one store, one API client over
// whichever transport exists (Electron preload bridge or the web-mode WebSocket), then the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiProvider } from './api/api-context.ts';
import { createApiClient } from './api/create-client.ts';
import { App } from './app.tsx';
import { ApiSource } from './data/api-source.ts';
import { StoreProvider, createInspectorStore } from './store/store.ts';
import { firstTimelineView } from './views/timeline-first-view.ts';
import './styles.css';

const store = createInspectorStore();
const rootElement = document.getElementById('root');
if (!rootElement) throw new Error('index.html has no #root element.');

const api = createApiClient({
  onDisconnect: (reason) =>
    store.setState({ sessionError: `Lost the connection to VRAMscope (${reason}); reload to reconnect.` }),
});
// In the Electron app, dropped and picked files open in place (by path, no copy): see PreloadBridge.
const bridge = window.vramscope;
const grantLocalFile = bridge?.grantLocalFile?.bind(bridge);
const source = new ApiSource(
  api,
  grantLocalFile && ((file) => (file instanceof File ? grantLocalFile(file) : Promise.resolve(null))),
  () => firstTimelineView(document, store.getState().groupBy),
);

createRoot(rootElement).render(
  <StrictMode>
    <ApiProvider api={api}>
      <StoreProvider store={store}>
        <App />
      </StoreProvider>
    </ApiProvider>
  </StrictMode>,
);

source
  .attach()
  .then(() => store.getState().connect(source))
  .catch((e: unknown) =>
    store.setState({
      sessionError: `Could not reach VRAMscope: ${e instanceof Error ? e.message : String(e)}`,
    }),
  );
