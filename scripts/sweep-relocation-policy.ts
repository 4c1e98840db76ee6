// The relocating block policy's two knobs against issue 17's item 1 (<= 16 vkAllocateMemory calls and
// committed peak / live peak <= 1.30 on every workload): for each pair of growth (the step a new block adds,
// as a fraction of the type's block bytes) and fragmentedFree (the free share of a type from which a miss
// is answered by moves rather than a block), replays workload-a (seed 7) and generator seeds 1–6 on the
// simulated lavapipe and H100 profiles with relocation on, and prints the worst calls and ratio over the 14
// replays and the moves they made in all. Counts only (no timing); prints, never asserts.
//
//   node --import tsx scripts/sweep-relocation-policy.ts [--growth 0.125,0.25] [--fragmented-free 0.05,0.1,0.2]
//
// Per replay cells read <profile initial><workload>:<calls>/<ratio>/<moves> (l = lavapipe, h = H100).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSimulatedDevice, parseWorkload, type Workload } from '../allocator/index.ts';
import { parseDeviceProfile } from '../allocator/profiles/device-profile.ts';
import { replayWorkload } from '../src-main/bench/replay.ts';
import { ensureWorkloadA, generateWorkload } from '../bench/workload-a.mjs';

const { values } = parseArgs({
  options: {
    growth: { type: 'string', default: '0.125,0.25' },
    'fragmented-free': { type: 'string', default: '0.05,0.1,0.15,0.2' },
    'relocate-above': { type: 'string', default: '0' },
  },
});
const fractions = (text: string): number[] => text.split(',').map(Number);
const growths = fractions(values.growth);
const fragmentedFrees = fractions(values['fragmented-free']);
const relocateAboves = fractions(values['relocate-above']);
if ([...growths, ...fragmentedFrees].some((f) => !(f > 0 && f <= 1))) {
  console.error('--growth and --fragmented-free take fractions in (0, 1] separated by commas');
  process.exit(2);
}

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const profiles = [
  ['l', 'mesa-lavapipe.vulkaninfo.txt'],
  ['h', 'nvidia-h100-80gb-hbm3.vulkaninfo.txt'],
].map(([initial, file]) => ({
  initial: initial!,
  description: parseDeviceProfile(readFileSync(path.join(root, 'assets', 'profiles', file!), 'utf8'), file!),
}));
const workloads: { name: string; workload: Workload }[] = [
  { name: 'w7', workload: parseWorkload(readFileSync(ensureWorkloadA(), 'utf8')) },
];
for (const seed of [1, 2, 3, 4, 5, 6])
  workloads.push({ name: `s${seed}`, workload: parseWorkload(generateWorkload([seed, 200000, 1024])) });

for (const growth of growths) {
  for (const fragmentedFree of fragmentedFrees) {
    for (const relocateAbove of relocateAboves) {
      let worstCalls = 0;
      let worstRatio = 0;
      let moves = 0;
      let movedBytes = 0;
      const cells: string[] = [];
      for (const profile of profiles) {
        for (const { name, workload } of workloads) {
          const r = replayWorkload(workload, {
            device: createSimulatedDevice(profile.description),
            strategy: 'tlsf',
            blockPolicy: { growth, fragmentedFree, relocateAbove },
            // Simulated: there are no bytes to copy.
            relocation: { copy: () => {} },
          });
          const ratio = r.committedPeak / r.livePeak;
          worstCalls = Math.max(worstCalls, r.blocksAllocated);
          worstRatio = Math.max(worstRatio, ratio);
          moves += r.moves;
          movedBytes += r.movedBytes;
          cells.push(`${profile.initial}${name}:${r.blocksAllocated}/${ratio.toFixed(3)}/${r.moves}`);
        }
      }
      console.log(
        `growth=${growth} fragmented_free=${fragmentedFree} relocate_above=${relocateAbove} worst_calls=${worstCalls} ` +
          `worst_ratio=${worstRatio.toFixed(3)} moves=${moves} moved_mib=${(movedBytes / 2 ** 20).toFixed(0)}`,
      );
      console.log(`  ${cells.join(' ')}`);
    }
  }
}
