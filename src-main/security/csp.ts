// The Content Security Policy of every VRAMscope page (the packaged app, its dev server, web mode): one list
// of directives. No inline scripts (except the dev server's), no eval, no remote code, no frames, no forms;
// only where scripts may come from and what the page may connect to differ between them.

/** `scriptSrc` / `connectSrc`: the source lists of script-src and connect-src, space-separated. */
export function pageCsp(scriptSrc: string, connectSrc: string): string {
  return [
    "default-src 'none'",
    `script-src ${scriptSrc}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connectSrc}`,
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
