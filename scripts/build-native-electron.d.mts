// Types of build-native-electron.mjs (plain JavaScript, runnable with node alone).
export declare const electronAddonDir: string;
export declare const electronAddonPath: string;
export declare function buildNativeForElectron(): string;
