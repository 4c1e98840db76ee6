// The validation flag of a run: openDevice opens the real lavapipe device with the Khronos validation layer
// and hands its messages to the runner's callback, which turns them into leveled log lines; a simulated
// profile refuses validation; a run request with validation runs in the worker on the real device.
// The real-device part is skipped, saying why, when the native addon is not built.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { isNativeAddonBuilt, type DebugMessage } from '../../native/index.ts';
import { VulkanDevice } from '../../native/vulkan-device.ts';
import { DeviceOpenError, openDevice } from '../../src-main/session/open-device.ts';
import { startScenario } from '../../src-main/session/scenario-host.ts';
import { validationLog } from '../../src-main/session/scenario-runner.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('a simulated profile refuses validation, in openDevice and as a run request (usage error)', async () => {
  await expect(
    openDevice({ kind: 'profile', profile: 'h100' }, repoRoot, { validation: true }),
  ).rejects.toThrow(DeviceOpenError);
  const run = startScenario({
    scenario: 'leaks',
    device: { kind: 'profile', profile: 'lavapipe' },
    validation: true,
    cwd: repoRoot,
  });
  const result = await run.done;
  expect(result.outcome).toBe('failed');
  expect(result.error?.kind).toBe('usage');
  expect(result.error?.message).toBe(
    'validation needs a real Vulkan device; the simulated profile "lavapipe" has no validation layer',
  );
  expect(result.summary).toBeNull();
});

const built = isNativeAddonBuilt();
describe.skipIf(!built)(
  `on the real lavapipe device${built ? '' : ' (skipped: the native Vulkan addon is not built; npm run setup)'}`,
  () => {
    test('openDevice with validation delivers the layer messages to onMessage, as leveled log lines', async () => {
      const messages: DebugMessage[] = [];
      const opened = await openDevice({ kind: 'real', index: 0 }, repoRoot, {
        validation: true,
        onMessage: (m) => messages.push(m),
      });
      try {
        expect(opened.validation).toBe(true);
        expect(opened.label).toMatch(/\(vulkan, validation\)$/);
        expect(opened.device).toBeInstanceOf(VulkanDevice);
        const context = (opened.device as VulkanDevice).context;
        expect(context.info.validation).toBe(true);
        // The messenger path end to end: a message submitted to the debug-utils messenger comes back.
        context.submitDebugMessage('warning', 'VRAMSCOPE-test', 'a test message');
        context.submitDebugMessage('error', 'VRAMSCOPE-test-error', 'an error');
        const ours = messages.filter((m) => m.messageIdName.startsWith('VRAMSCOPE-test'));
        expect(ours.map(validationLog)).toEqual([
          { level: 'warn', message: '[vulkan warning] VRAMSCOPE-test: a test message' },
          { level: 'error', message: '[vulkan error] VRAMSCOPE-test-error: an error' },
        ]);
      } finally {
        opened.close();
      }
    });

    test('without validation, no messenger: nothing is delivered', async () => {
      const messages: DebugMessage[] = [];
      const opened = await openDevice({ kind: 'real', index: 0 }, repoRoot, {
        onMessage: (m) => messages.push(m),
      });
      try {
        expect(opened.validation).toBe(false);
        expect((opened.device as VulkanDevice).context.info.validation).toBe(false);
      } finally {
        opened.close();
      }
      expect(messages).toEqual([]);
    });

    test('a run request with validation runs in the worker on the validated real device', async () => {
      const logs: string[] = [];
      const run = startScenario(
        {
          scenario: 'transient-ring',
          params: { frames: '20' },
          device: { kind: 'real', index: 0 },
          validation: true,
          allocationSizes: { hostMemblockSize: 4 * 1024 * 1024 },
          seed: 3,
          cwd: repoRoot,
        },
        { onLog: (message, level) => logs.push(`${level} ${message}`) },
      );
      const result = await run.done;
      expect(result.error).toBeNull();
      expect(result.outcome).toBe('completed');
      expect(run.info?.validation).toBe(true);
      expect(run.info?.device.source).toBe('vulkan');
      expect(run.info?.allocationSizes.hostMemblockSize).toBe(4 * 1024 * 1024);
      expect(result.summary?.validation).toBe(true);
      // A correct run gives the layer nothing to report.
      expect(logs.filter((l) => l.includes('[vulkan '))).toEqual([]);
    });
  },
);
