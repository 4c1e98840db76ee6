// The app menu: File (open trace, recent traces, export report), Scenarios (run a built-in one), and the
// standard Edit/View/Window roles. Rebuilt when the recent list changes.
import { app, Menu, type MenuItemConstructorOptions } from 'electron';
import type { AppBackend } from '../api/app-backend.ts';

export interface MenuActions {
  readonly backend: AppBackend;
  openTraceDialog(): Promise<void>;
  /** Opens a file main granted (a sample or a recent trace) by its fileId. */
  openGranted(fileId: string): Promise<void>;
  showScenario(scenario: string): void;
  exportReport(): Promise<void>;
}

async function scenarioItems(actions: MenuActions): Promise<MenuItemConstructorOptions[]> {
  const response = await actions.backend.dispatch(
    { t: 'req', id: 0, name: 'listScenarios', params: {} },
    { clientId: 'main', transport: 'in-process' },
  );
  if (!response.ok) return [{ label: 'No scenarios available', enabled: false }];
  const { scenarios } = response.result as { scenarios: { id: string; name: string; builtin: boolean }[] };
  return scenarios
    .filter((s) => s.builtin)
    .map((s) => ({ label: s.name, click: () => actions.showScenario(s.id) }));
}

export async function buildAppMenu(actions: MenuActions): Promise<void> {
  const recent = actions.backend.recentTraces();
  const samples = actions.backend.sampleTraces();
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Trace…', accelerator: 'CmdOrCtrl+O', click: () => void actions.openTraceDialog() },
        {
          label: 'Open Recent',
          submenu:
            recent.length === 0
              ? [{ label: 'No recent traces', enabled: false }]
              : recent.map((r) => ({ label: r.name, click: () => void actions.openGranted(r.fileId) })),
        },
        {
          label: 'Open Sample Trace',
          submenu:
            samples.length === 0
              ? [{ label: 'No sample traces', enabled: false }]
              : samples.map((s) => ({ label: s.name, click: () => void actions.openGranted(s.fileId) })),
        },
        { type: 'separator' },
        { label: 'Export Report…', accelerator: 'CmdOrCtrl+E', click: () => void actions.exportReport() },
        { type: 'separator' },
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { label: 'Scenarios', submenu: await scenarioItems(actions) },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  app.setAboutPanelOptions({ applicationName: 'VRAMscope' });
}
