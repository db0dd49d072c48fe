/** What code outside src/providers/ uses of the provider kinds. */
export { adapterOf, isKind, KINDS, registry, specOf, type Kind, type Provider } from "./registry.ts";
export { ProviderTable } from "./registry.ts";
export type { ContextWindow, ProviderSpec } from "./types.ts";
