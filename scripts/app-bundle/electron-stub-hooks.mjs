// Module resolution hook for scripts/check-app-bundle.ts ONLY: `electron` resolves to electron-stub.mjs.
const stubUrl = new URL('./electron-stub.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'electron' || specifier === 'electron/main') return { url: stubUrl, shortCircuit: true };
  return nextResolve(specifier, context);
}
