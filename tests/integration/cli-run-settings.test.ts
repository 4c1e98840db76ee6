// `vramscope run` allocator and device settings, as a user starts it (bin/vramscope.mjs in a child process):
// --block-size-device / --block-size-host reach the worker's allocator (the trace's blockCreate sizes and
// its header say so), --validation opens the real device with the validation layer, and bad values are
// usage errors (exit 2, one line on stderr).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { FlagBits, isHostVisible, MemoryPropertyFlags, TraceEventKind } from '../../allocator/index.ts';
import { isNativeAddonBuilt } from '../../native/index.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repoRoot, 'bin', 'vramscope.mjs');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-cli-run-settings-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MiB = 1024 * 1024;

function vramscope(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * General (non-dedicated) blocks created in a trace, split by the block size their memory type uses: the
 * crate's rule (freelist) gives every host-visible type the host size; tlsf gives every device-local type
 * the device size, host-visible or not (blockPolicy.sizesBy).
 */
function generalBlockSizes(
  tracePath: string,
  sizesBy: 'hostVisible' | 'deviceLocal' = 'deviceLocal',
): { device: number[]; host: number[] } {
  const trace = loadTraceSync(tracePath);
  const types = trace.header.device.types;
  const c = trace.events.columns;
  const device: number[] = [];
  const host: number[] = [];
  for (let i = 0; i < trace.events.length; i++) {
    if (c.kind[i] !== TraceEventKind.BlockCreate || (c.flags[i]! & FlagBits.dedicated) !== 0) continue;
    const type = types.find((t) => t.index === c.type[i]);
    if (!type) throw new Error(`blockCreate of unknown memory type ${c.type[i]}`);
    const deviceSized =
      sizesBy === 'deviceLocal'
        ? (type.propertyFlags & MemoryPropertyFlags.DEVICE_LOCAL) !== 0 || !isHostVisible(type)
        : !isHostVisible(type);
    (deviceSized ? device : host).push(c.size[i]!);
  }
  return { device, host };
}

test('--block-size-device 8MiB --block-size-host 4194304: blocks of those sizes, recorded in the header', () => {
  const out = path.join(tmp, 'small-blocks.trace');
  const r = vramscope(
    'run',
    'leaks',
    '--profile',
    'h100',
    '--seed',
    '2',
    '--block-size-device',
    '8MiB',
    '--block-size-host',
    String(4 * MiB),
    '--out',
    out,
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^blocks +device 8\.00 MiB, host 4\.00 MiB$/m);
  // tlsf: both memory types this scenario uses are device-local (type 1, and type 4 with host access), so
  // all its blocks take the device size; the host size is checked with freelist below.
  const { device, host } = generalBlockSizes(out);
  expect(device.length).toBeGreaterThan(1);
  expect(new Set(device)).toEqual(new Set([8 * MiB]));
  expect(host).toEqual([]);
  const header = loadTraceSync(out).header;
  expect(header.allocator.allocationSizes).toEqual({
    deviceMemblockSize: 8 * MiB,
    hostMemblockSize: 4 * MiB,
    deviceMaxMemblockSize: 8 * MiB,
    hostMaxMemblockSize: 4 * MiB,
  });
  expect(header.allocator.strategy).toBe('tlsf');
  expect(header.allocator.bufferDeviceAddress).toBe(false);
});

test('without the flags the same run uses the default 256 MiB / 64 MiB blocks', () => {
  const out = path.join(tmp, 'default-blocks.trace');
  const r = vramscope('run', 'leaks', '--profile', 'h100', '--seed', '2', '--out', out);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^blocks +device 256\.00 MiB, host 64\.00 MiB$/m);
  // tlsf sizes blocks by demand, from 128 MiB up to the 256 MiB device size.
  const { device } = generalBlockSizes(out);
  expect(device.length).toBeGreaterThan(0);
  for (const size of device) expect(size >= 128 * MiB && size <= 256 * MiB, String(size)).toBe(true);
  const crate = path.join(tmp, 'default-blocks-freelist.trace');
  const f = vramscope(
    'run',
    'leaks',
    '--profile',
    'h100',
    '--seed',
    '2',
    '--strategy',
    'freelist',
    '--out',
    crate,
  );
  expect(f.status).toBe(0);
  const sizes = generalBlockSizes(crate, 'hostVisible');
  expect(new Set(sizes.device)).toEqual(new Set([256 * MiB]));
  expect(new Set(sizes.host)).toEqual(new Set([64 * MiB]));
});

test('a size the allocator rounds: a warning on stderr, and the header records the size used', () => {
  const out = path.join(tmp, 'rounded.trace');
  const r = vramscope(
    'run',
    'leaks',
    '--profile',
    'h100',
    '--seed',
    '2',
    '--block-size-host',
    '5000000',
    '--buffer-device-address',
    '--strategy',
    'freelist',
    '--out',
    out,
  );
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(/^\[leaks\] \[allocator warn\] hostMemblockSize 5000000 bytes .*using 8 MiB$/m);
  const header = loadTraceSync(out).header;
  expect(header.allocator.allocationSizes.hostMemblockSize).toBe(8 * MiB);
  expect(header.allocator.bufferDeviceAddress).toBe(true);
  expect(header.allocator.strategy).toBe('freelist');
  expect(new Set(generalBlockSizes(out, 'hostVisible').host)).toEqual(new Set([8 * MiB]));
});

test('bad settings exit 2 with one line on stderr naming the flag', () => {
  const cases: [string[], string][] = [
    [['--block-size-device', '0'], '--block-size-device must be a positive whole number of bytes, got "0"'],
    [
      ['--block-size-host=-4'],
      '--block-size-host must be a number of bytes (e.g. 8388608 or 8MiB), got "-4"',
    ],
    [
      ['--block-size-host', '4.5MiB'],
      '--block-size-host must be a number of bytes (e.g. 8388608 or 8MiB), got "4.5MiB"',
    ],
    [
      ['--block-size-device', '8XB'],
      '--block-size-device must be a number of bytes (e.g. 8388608 or 8MiB), got "8XB"',
    ],
    [
      ['--block-size-device', '99999999999GiB'],
      '--block-size-device must be a positive whole number of bytes, got "99999999999GiB"',
    ],
    [['--block-size-host'], "Option '--block-size-host <value>' argument missing"],
    [
      ['--validation'],
      '--validation needs a real Vulkan device; a --profile device is simulated and has no validation layer',
    ],
  ];
  for (const [args, message] of cases) {
    const r = vramscope('run', 'leaks', '--profile', 'lavapipe', ...args);
    expect(r.status, args.join(' ')).toBe(2);
    expect(r.stdout, args.join(' ')).toBe('');
    expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
    expect(r.stderr, args.join(' ')).toContain(`vramscope run: ${message}`);
  }
});

test('--buffer-device-address on a device without buffer device addresses exits 2', () => {
  // The shipped lavapipe profile as a Vulkan 1.1 driver without VK_KHR_buffer_device_address.
  const text = readFileSync(path.join(repoRoot, 'assets', 'profiles', 'mesa-lavapipe.vulkaninfo.txt'), 'utf8')
    .replace(/apiVersion( +)= 1\.3\.230 \(\d+\)/, 'apiVersion$1= 1.1.0 (4198400)')
    .replace(/^.*VK_KHR_buffer_device_address.*\n/m, '');
  expect(text).not.toContain('VK_KHR_buffer_device_address');
  const profile = path.join(tmp, 'no-bda.vulkaninfo.txt');
  writeFileSync(profile, text);
  const ok = vramscope('run', 'leaks', '--profile', profile, '--seed', '1');
  expect(ok.status, ok.stderr).toBe(0);
  const r = vramscope('run', 'leaks', '--profile', profile, '--buffer-device-address');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(
    /^vramscope run: bufferDeviceAddress was asked for, but llvmpipe .* does not offer buffer device addresses/,
  );
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
});

test('--help describes the new flags', () => {
  const r = vramscope('run', '--help');
  expect(r.status).toBe(0);
  for (const flag of [
    '--block-size-device BYTES',
    '--block-size-host BYTES',
    '--buffer-device-address',
    '--validation',
  ])
    expect(r.stdout).toContain(flag);
});

const built = isNativeAddonBuilt();
describe.skipIf(!built)(
  `--validation on the real lavapipe device${built ? '' : ' (skipped: the native Vulkan addon is not built; npm run setup)'}`,
  () => {
    test('runs with the validation layer and 8 MiB blocks; the summary says so', () => {
      // lavapipe's one memory type is device-local and host-visible: tlsf gives it the device size.
      const out = path.join(tmp, 'validated.trace');
      const r = vramscope(
        'run',
        'leaks',
        '--device',
        '0',
        '--validation',
        '--block-size-device',
        '8MiB',
        '--out',
        out,
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^device +.*\(vulkan, validation\)$/m);
      expect(r.stdout).toMatch(/^blocks +device 8\.00 MiB, host 64\.00 MiB; validation$/m);
      // A correct run gives the layer nothing to complain about.
      expect(r.stderr).not.toMatch(/\[vulkan (error|warning)\]/);
      const trace = loadTraceSync(out);
      expect(trace.header.device.source).toBe('vulkan');
      const { device, host } = generalBlockSizes(out);
      expect(host).toEqual([]);
      expect(device.length).toBeGreaterThan(0);
      expect(new Set(device)).toEqual(new Set([8 * MiB]));
    });
  },
);

/** Budget samples the session flagged in a trace: crossed (warn) and refused (strict). */
function flaggedBudgetSamples(tracePath: string): { crossed: number; refused: number } {
  const trace = loadTraceSync(tracePath);
  const c = trace.events.columns;
  let crossed = 0;
  let refused = 0;
  for (let i = 0; i < trace.events.length; i++) {
    if (c.kind[i] !== TraceEventKind.BudgetSample) continue;
    if ((c.flags[i]! & FlagBits.budgetCrossed) !== 0) crossed++;
    if ((c.flags[i]! & FlagBits.budgetRefused) !== 0) refused++;
  }
  return { crossed, refused };
}

describe('run budget-overflow --budget ignore|warn|strict', () => {
  // The scenario gives the CpuToGpu heap a 128 MiB budget under a 256 MiB hard limit and fills it.
  test.each(['lavapipe', 'h100'])('on the %s profile each mode does what it says', (profile) => {
    const results = new Map<string, { stdout: string; stderr: string; trace: string }>();
    for (const mode of ['ignore', 'warn', 'strict']) {
      const trace = path.join(tmp, `budget-${profile}-${mode}.trace`);
      const r = vramscope(
        'run',
        'budget-overflow',
        '--profile',
        profile,
        '--budget',
        mode,
        '--seed',
        '3',
        '--out',
        trace,
      );
      expect(r.status, r.stderr).toBe(0);
      results.set(mode, { stdout: r.stdout, stderr: r.stderr, trace });
      expect(loadTraceSync(trace).header.allocator.budget).toBe(mode);
      const report = vramscope('report', trace);
      expect(report.status, report.stderr).toBe(0);
      expect(report.stdout).toContain(`, budget ${mode}`);
    }
    const ignore = results.get('ignore')!;
    expect(ignore.stdout).toMatch(/^budget +ignore \(heap budgets are not checked\)$/m);
    expect(flaggedBudgetSamples(ignore.trace)).toEqual({ crossed: 0, refused: 0 });
    expect(ignore.stderr).not.toMatch(/past its budget|the budget refused/);

    const warn = results.get('warn')!;
    expect(warn.stdout).toMatch(/^budget +warn: 1 block pushed a heap past its budget$/m);
    expect(flaggedBudgetSamples(warn.trace)).toEqual({ crossed: 1, refused: 0 });
    expect(warn.stderr).toMatch(/pushed heap 0 past its budget: usage 256\.00 MiB > budget 128\.00 MiB/);

    const strict = results.get('strict')!;
    const refused = flaggedBudgetSamples(strict.trace).refused;
    expect(refused).toBeGreaterThan(0);
    expect(strict.stdout).toContain(`strict: the budget refused ${refused} blocks`);
    expect(strict.stderr).toMatch(/the budget refused a 16\.00 MiB block on heap 0 for "chunk-8"/);
    if (profile === 'h100') {
      // CpuToGpu falls back out of ReBAR (heap 0) into system memory; the decision's retry says why.
      expect(strict.stderr).toMatch(
        /"chunk-8" went to memory type 2 \(the decision's fallback\) because heap 0/,
      );
    } else {
      // One heap: nowhere to fall back; the failures name the budget.
      const report = vramscope('report', strict.trace);
      expect(report.stdout).toMatch(/"chunk-8" 16\.00 MiB CpuToGpu — OutOfMemory: .*past its budget/);
    }
  });
});

test('--resources real on a --profile device is a usage error; bad values name the flag', () => {
  const r = vramscope('run', 'leaks', '--profile', 'lavapipe', '--resources', 'real');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/--resources real needs a real Vulkan device/);
  const bad = vramscope('run', 'leaks', '--profile', 'lavapipe', '--resources', 'fake');
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/--resources/);
  const none = vramscope(
    'run',
    'leaks',
    '--profile',
    'lavapipe',
    '--resources',
    'none',
    '--param',
    'objects=20',
  );
  expect(none.status, none.stderr).toBe(0);
  expect(none.stdout).toMatch(/^resources +none \(the scenario's sizes, every memory type allowed\)$/m);
});

describe.skipIf(!built)(
  `--resources on the real lavapipe device${built ? '' : ' (skipped: the native Vulkan addon is not built; npm run setup)'}`,
  () => {
    test('real is the default there; the trace header and report say so and allocate events carry the bits', () => {
      const out = path.join(tmp, 'resources-real.trace');
      const r = vramscope('run', 'leaks', '--device', '0', '--param', 'objects=30', '--out', out);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^resources +real \(buffers and images created, bound and destroyed/m);
      const trace = loadTraceSync(out);
      expect(trace.header.allocator.resources).toBe('real');
      const c = trace.events.columns;
      let allocates = 0;
      for (let i = 0; i < trace.events.length; i++) {
        if (c.kind[i] !== TraceEventKind.Allocate) continue;
        allocates++;
        expect(c.typeBits[i]).not.toBe(0);
      }
      expect(allocates).toBeGreaterThan(0);
      const report = vramscope('report', out);
      expect(report.stdout).toMatch(/^allocator: tlsf, budget warn, resources real \(/m);
      const none = vramscope('run', 'leaks', '--device', '0', '--resources', 'none', '--param', 'objects=30');
      expect(none.status, none.stderr).toBe(0);
      expect(none.stdout).toMatch(/^resources +none/m);
    });
  },
);
