// `vramscope run`: runs a scenario (built-in name or .mjs file) in a worker thread on a device and records
// a trace. A progress line on a terminal, a summary at the end.
import { budgetModes, formatBytes, placementStrategyNames } from '../../../allocator/index.ts';
import type { DeviceSpec } from '../../session/open-device.ts';
import { resourcesModes } from '../../session/resources.ts';
import { parseParamAssignments, ScenarioParamError } from '../../session/scenario-params.ts';
import { builtinScenarioCatalog } from '../../session/scenario-loader.ts';
import { startScenario } from '../../session/scenario-host.ts';
import type { RunStatus } from '../../session/run-protocol.ts';
import { formatSummary } from '../../session/summary.ts';
import {
  choiceOption,
  CommandFailure,
  integerOption,
  stringOption,
  UsageError,
  type Command,
  type ParsedValues,
} from '../command.ts';
import path from 'node:path';
import { printable, printableLines } from '../../../allocator/text/printable.ts';

function paramStrings(values: ParsedValues): string[] {
  const v = values.param;
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== 'string') throw new UsageError('--param needs key=value');
    return x;
  });
}

/** The built-ins, their descriptions and parameters (type, default, range). */
async function formatCatalog(): Promise<string> {
  const lines: string[] = [];
  for (const { name, meta } of await builtinScenarioCatalog()) {
    lines.push(`${name}: ${meta.description}`);
    for (const [key, p] of Object.entries(meta.parameters)) {
      const range = p.min !== undefined || p.max !== undefined ? `, ${p.min ?? '…'}..${p.max ?? '…'}` : '';
      lines.push(`  ${key} (${p.type}, default ${JSON.stringify(p.default)}${range}): ${p.description}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

const byteUnits: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A positive byte count: "8388608", "8MiB", "8 MiB", "512KiB" (binary units). */
function bytesOption(values: ParsedValues, name: string): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(v.trim());
  const unit = m ? byteUnits[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new UsageError(`--${name} must be a number of bytes (e.g. 8388608 or 8MiB), got "${v}"`);
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive whole number of bytes, got "${v}"`);
  return n;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Run a scenario on a device and record a trace',
  help: `Usage: vramscope run <scenario|file.mjs> [--param k=v ...] [--device N | --profile FILE] [--strategy S]
                     [--block-size-device BYTES] [--block-size-host BYTES] [--buffer-device-address]
                     [--budget ignore|warn|strict] [--resources real|none] [--no-relocate] [--validation]
                     [--seed N] [--out <trace>]

Runs a scenario script in a worker thread against the allocator on a device, recording every allocator
event to a trace file. A progress line is shown on a terminal; a summary (ops, allocations, failures, peak
committed bytes, leaks by origin) is printed at the end.

Scenarios: a built-in name (\`vramscope run --list\` shows them with their parameters) or a path to an
ES module exporting \`meta\` and \`run(ctx, params)\`. A scenario file is code: only run scripts you trust.

Options:
  --param k=v       a scenario parameter (repeatable); see the scenario's meta for names, types and ranges
  --list            list the built-in scenarios and their parameters, then exit
  --device N        the real Vulkan device with index N (see \`vramscope devices\`); default: the best real
                    device, or the simulated lavapipe profile when the native addon is not built
  --profile FILE    a simulated device: a vulkaninfo text file, a built-in model (d3d12-tier1, d3d12-tier2,
                    metal) or a shipped profile name (lavapipe, h100)
  --strategy S      placement strategy: ${placementStrategyNames.join(', ')} (default tlsf)
  --block-size-device BYTES
                    size of the allocator's blocks in memory that is not host-visible (default 256 MiB);
                    BYTES is a whole number, optionally with KiB, MiB or GiB (e.g. 8MiB). Like
                    gpu-allocator, sizes are rounded up to a multiple of 4 MiB within [4 MiB, 256 MiB],
                    with a warning; the summary and the trace header show the sizes used
  --block-size-host BYTES
                    size of the allocator's blocks in host-visible memory (default 64 MiB); as above
  --buffer-device-address
                    allocate every block with VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT (the device must offer
                    buffer device addresses)
  --budget MODE     heap budgets (VK_EXT_memory_budget) when a block is created: ignore (gpu-allocator),
                    warn (default: a budget sample past the budget is recorded and logged) or strict
                    (the request takes its fallback memory type, else fails with OutOfMemory)
  --resources MODE  real (default on a real device): each allocation creates its VkBuffer/VkImage, takes
                    the driver's memory requirements (size, alignment, memoryTypeBits), binds it at the
                    chosen offset and destroys it on free, as an application does; none (the only mode on
                    a --profile device): the scenario's sizes with every memory type allowed
  --no-relocate     no relocation before growth (with tlsf it is on by default: a request that fits no free
                    range while its memory type has the free bytes moves a few movable allocations, copying
                    their bytes and, with --resources real, recreating their buffers at the new place,
                    instead of creating a block; the moves are recorded as move events)
  --validation      open the real Vulkan device with the Khronos validation layer; its messages are printed
                    on stderr (not with --profile; a simulated fallback runs without it and says so)
  --seed N          seed of ctx.random() (unsigned 32-bit); the same seed gives the same events
  --out FILE        the trace file to write (without it, the run is summarized but not recorded)
  --json            print the summary as JSON on stdout

Exit codes: 0 the scenario completed, 1 it failed (script error, device error), 2 bad usage.
`,
  options: {
    param: { type: 'string', multiple: true },
    device: { type: 'string' },
    profile: { type: 'string' },
    strategy: { type: 'string' },
    'block-size-device': { type: 'string' },
    'block-size-host': { type: 'string' },
    'buffer-device-address': { type: 'boolean' },
    budget: { type: 'string' },
    resources: { type: 'string' },
    'no-relocate': { type: 'boolean' },
    validation: { type: 'boolean' },
    seed: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    list: { type: 'boolean' },
  },
  maxPositionals: 1,
  async run(values, positionals, io) {
    if (values.list === true) {
      io.stdout.write(await formatCatalog());
      return 0;
    }
    const scenario = positionals[0];
    if (scenario === undefined) throw new UsageError('which scenario? give a built-in name or a .mjs file');
    let params: Record<string, string>;
    try {
      params = parseParamAssignments(paramStrings(values));
    } catch (error) {
      if (error instanceof ScenarioParamError) throw new UsageError(error.message);
      throw error;
    }
    const deviceIndex = integerOption(values, 'device', 0, 64);
    const profile = stringOption(values, 'profile');
    if (deviceIndex !== undefined && profile !== undefined)
      throw new UsageError('give either --device or --profile, not both');
    const device: DeviceSpec =
      profile !== undefined
        ? { kind: 'profile', profile }
        : deviceIndex !== undefined
          ? { kind: 'real', index: deviceIndex }
          : { kind: 'default' };
    const strategy = choiceOption(values, 'strategy', placementStrategyNames);
    const deviceBlock = bytesOption(values, 'block-size-device');
    const hostBlock = bytesOption(values, 'block-size-host');
    const bufferDeviceAddress = values['buffer-device-address'] === true;
    const budget = choiceOption(values, 'budget', budgetModes);
    const resources = choiceOption(values, 'resources', resourcesModes);
    if (resources === 'real' && profile !== undefined)
      throw new UsageError(
        '--resources real needs a real Vulkan device; a --profile device is simulated (it runs with --resources none)',
      );
    const validation = values.validation === true;
    if (validation && profile !== undefined)
      throw new UsageError(
        '--validation needs a real Vulkan device; a --profile device is simulated and has no validation layer',
      );
    const allocationSizes = {
      ...(deviceBlock !== undefined ? { deviceMemblockSize: deviceBlock } : {}),
      ...(hostBlock !== undefined ? { hostMemblockSize: hostBlock } : {}),
    };
    const seed = integerOption(values, 'seed', 0, 0xffffffff);
    const out = stringOption(values, 'out');

    const tty = io.stderr.isTTY === true;
    let lastDraw = 0;
    const draw = (s: RunStatus, force = false): void => {
      const now = Date.now();
      if (!tty || (!force && now - lastDraw < 100)) return;
      lastDraw = now;
      io.stderr.write(
        `\r\x1b[K${scenario}: ${s.state}, ${s.ops} ops, frame ${s.frame}, ${s.liveAllocations} live, ${formatBytes(s.committedBytes)} committed, ${s.failures} failures`,
      );
    };
    const run = startScenario(
      {
        scenario,
        params,
        device,
        ...(strategy ? { strategy } : {}),
        ...(Object.keys(allocationSizes).length > 0 ? { allocationSizes } : {}),
        ...(bufferDeviceAddress ? { bufferDeviceAddress } : {}),
        ...(budget !== undefined ? { budget } : {}),
        ...(resources !== undefined ? { resources } : {}),
        // Relocation is tlsf's default; freelist never relocates.
        ...(values['no-relocate'] === true ? { relocation: false } : {}),
        ...(validation ? { validation } : {}),
        ...(seed !== undefined ? { seed } : {}),
        tracePath: out === undefined ? null : path.resolve(io.cwd, out),
        cwd: io.cwd,
      },
      {
        onReady: (info) => {
          if (info.deviceNote) io.stderr.write(`vramscope run: ${info.deviceNote}\n`);
        },
        onStatus: (s) => draw(s),
        onLog: (message) => {
          if (tty) io.stderr.write('\r\x1b[K');
          io.stderr.write(`[${printable(scenario, 200)}] ${printable(message)}\n`);
        },
      },
    );
    const onSigint = (): void => void run.cancel();
    process.once('SIGINT', onSigint);
    const result = await run.done;
    process.off('SIGINT', onSigint);
    if (tty) io.stderr.write('\r\x1b[K');

    if (result.summary) {
      if (values.json === true)
        io.stdout.write(
          `${JSON.stringify({ outcome: result.outcome, error: result.error, summary: result.summary }, null, 2)}\n`,
        );
      else io.stdout.write(printableLines(formatSummary(result.summary, result.outcome)));
    }
    if (result.error) {
      if (result.error.kind === 'usage') throw new UsageError(result.error.message);
      throw new CommandFailure(result.error.message);
    }
    if (result.outcome === 'cancelled') throw new CommandFailure('the run was cancelled');
    return 0;
  },
};
