// The only two IPC channels between the preload and main. Kept in their own tiny module so the sandboxed
// preload bundle stays small (it must not pull in zod or the contract).
export const ipcChannels = {
  /** invoke: a RequestFrame in, a ResponseFrame out. */
  request: 'vramscope:request',
  /** main → renderer: one EventBatchFrame per flush. */
  events: 'vramscope:events',
} as const;
