// Types of large-pages.mjs (plain JavaScript: the `vramscope` command's entry needs no TypeScript tooling).
export declare function withLargePages(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export declare function wantsLargePagesRestart(args: readonly string[], env?: NodeJS.ProcessEnv): boolean;
export declare function restartWithLargePages(): void;
