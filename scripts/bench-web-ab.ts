// A/B of web mode between builds (printed, not asserted): pick → first frame with the timeline's data, the
// same file opened with every given checkout in turn, run after run (alternating per run, so that the
// machine's drift hits all of them alike: on the shared 2-core machine its speed swings more between
// minutes than most changes move the time). Each run is a fresh server of that checkout and a fresh page in
// one Chromium (scripts/web-open.ts: the phases and the CPU split). Each checkout needs `npm run build:cli`
// first; its renderer is built here into its test-output/bench-web-ab-renderer. The server gets the
// environment `npm start` gives it (huge-pages.ts). Medians at the end; every line carries the 1-minute load
// average.
//
// A build may carry settings for its server after `::`: environment variables (`DIR::NAME=value`) and
// node flags (`DIR::--flag`), added to what `npm start` gives it, to compare one build under two settings
// (`DIR::GLIBC_TUNABLES=glibc.malloc.trim_threshold=268435456::--single-threaded-gc`).
//
//   node --import tsx scripts/bench-web-ab.ts [--entries 1000000] [--file F] [--runs 8] <build> [<build> ...]
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { serverEnvironment } from '../src-main/runtime/huge-pages.ts';
import { median } from '../src-main/cli/commands/bench.ts';
import { launchBrowser, viteBuild } from '../tests/support/ui-browser.ts';
import { benchSnapshotFile } from './pytorch-training-snapshot.ts';
import { openInWebMode, type WebOpen } from './web-open.ts';

const MiB = 1 << 20;
const load = (): string => loadavg()[0]!.toFixed(2);
const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function line(r: WebOpen): string {
  return `upload_done_s=${seconds(r.uploaded)} import_done_s=${seconds(r.imported)} overview_s=${seconds(r.overview)} first_frame_s=${seconds(r.firstFrame)} cpu_s_server=${r.cpu.server.toFixed(2)} cpu_s_chromium_network=${r.cpu.chromiumNetwork.toFixed(2)} cpu_s_chromium_other=${r.cpu.chromiumOther.toFixed(2)} cpu_s_other=${r.cpu.other.toFixed(2)} server_minor_faults=${r.serverMinorFaults.toFixed(0)} server_peak_rss_mib=${r.peakRssMiB.toFixed(0)}`;
}

function medianRun(rs: WebOpen[]): WebOpen {
  const m = (pick: (r: WebOpen) => number): number => median(rs.map(pick));
  return {
    uploaded: m((r) => r.uploaded),
    imported: m((r) => r.imported),
    overview: m((r) => r.overview),
    firstFrame: m((r) => r.firstFrame),
    peakRssMiB: m((r) => r.peakRssMiB),
    serverMinorFaults: m((r) => r.serverMinorFaults),
    cpu: {
      server: m((r) => r.cpu.server),
      chromiumNetwork: m((r) => r.cpu.chromiumNetwork),
      chromiumOther: m((r) => r.cpu.chromiumOther),
      other: m((r) => r.cpu.other),
    },
  };
}

interface Build {
  readonly checkout: string;
  /** Variables set for its server, over this process's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Node flags for its server besides serverNodeFlags. */
  readonly nodeFlags: readonly string[];
  /** The argument as given, checkout resolved: what its lines say. */
  readonly label: string;
}

/** `DIR` or `DIR::NAME=value::--flag...`. */
function parseBuild(arg: string): Build {
  const [dir, ...settings] = arg.split('::');
  const env: Record<string, string> = {};
  const nodeFlags: string[] = [];
  for (const s of settings) {
    if (s.startsWith('--')) {
      nodeFlags.push(s);
      continue;
    }
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`${arg}: "${s}" is neither NAME=value nor --flag`);
    env[s.slice(0, eq)] = s.slice(eq + 1);
  }
  const checkout = path.resolve(dir!);
  return { checkout, env, nodeFlags, label: [checkout, ...settings].join('::') };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      entries: { type: 'string', default: '1000000' },
      file: { type: 'string' },
      runs: { type: 'string', default: '8' },
    },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new Error('which builds? give one or more checkouts');
  const builds = positionals.map(parseBuild);
  const checkouts = [...new Set(builds.map((b) => b.checkout))];
  for (const c of checkouts)
    if (!existsSync(path.join(c, 'bin', 'vramscope.mjs')) || !existsSync(path.join(c, 'dist', 'cli')))
      throw new Error(
        `${c}: not a built checkout (bin/vramscope.mjs and dist/cli: run npm run build:cli there)`,
      );
  const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-bench-web-ab-'));
  const browser = await launchBrowser();
  try {
    const file = benchSnapshotFile(dir, Number(values.entries), values.file);
    const mb = statSync(file).size / MiB;
    const uis = new Map<string, string>();
    for (const c of checkouts) {
      const ui = path.join(c, 'test-output', 'bench-web-ab-renderer');
      await viteBuild(path.join(c, 'src-renderer'), ui);
      uis.set(c, ui);
    }
    const runs = new Map<string, WebOpen[]>(builds.map((b) => [b.label, []]));
    for (let k = 0; k < Math.max(1, Number(values.runs)); k++) {
      for (const b of builds) {
        const env = serverEnvironment({ ...process.env, ...b.env });
        const r = await openInWebMode(browser, file, {
          checkout: b.checkout,
          ui: uis.get(b.checkout)!,
          env,
          extraNodeFlags: b.nodeFlags,
        });
        runs.get(b.label)!.push(r);
        console.log(`bench-web-ab run=${k} checkout=${b.label} ${line(r)} load=${load()}`);
      }
    }
    for (const [c, rs] of runs)
      console.log(
        `bench-web-ab median checkout=${c} file_mb=${mb.toFixed(1)} runs=${rs.length} ${line(medianRun(rs))} load=${load()}`,
      );
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
