// Set to `true` by the builds that bundle src-main (vite.cli.config.ts, vite.main.config.ts); undeclared
// (so `typeof VRAMSCOPE_BUNDLED === 'undefined'`) when the sources run as they are (tests, tsx scripts).
declare const VRAMSCOPE_BUNDLED: boolean | undefined;
