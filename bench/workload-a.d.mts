// Types of workload-a.mjs (plain JavaScript so that `npm run bench` needs no TypeScript tooling).
export declare const generatorPath: string;
export declare const workloadAPath: string;
export declare const workloadAArgs: readonly string[];
export declare const workloadASha256: string;
export declare function generateWorkload(args: readonly (string | number)[]): string;
export declare function sha256(text: string | Uint8Array): string;
export declare function ensureWorkloadA(): string;
