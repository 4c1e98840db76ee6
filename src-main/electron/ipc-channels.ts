// The only three IPC channels between the preload and main. Kept in their own tiny module so the sandboxed
// preload bundle stays small (it must not pull in zod or the contract).
export const ipcChannels = {
  /** invoke: a RequestFrame in, a ResponseFrame out. */
  request: 'vramscope:request',
  /** main → renderer: one EventBatchFrame per flush. */
  events: 'vramscope:events',
  /** invoke: the path of a file the user dropped or picked (from webUtils) in, a grant or why not out. */
  grantLocalFile: 'vramscope:grant-local-file',
} as const;
