/**
 * The daemon config every bench runs atrad with: the default providers and services off, and one
 * provider per translated kind (`ant`, `oai`, `oll`) pointing at the stand-in at `up`.
 */
export const benchConfig = (port: number, up: string) =>
  `[server]\nport = ${port}\n` +
  ["ollama", "mlx", "victoria", "veronica"].map((p) => `[providers.${p}]\nenabled = false\n`).join("") +
  `[providers.ant]\nkind = "anthropic"\nurl = "${up}"\n[providers.oai]\nkind = "openai"\nurl = "${up}"\n[providers.oll]\nkind = "ollama"\nurl = "${up}"\n` +
  `[routes]\ndefault = ["oai/m"]\n` +
  ["ollama", "mlx", "victoria", "veronica", "knowledge_os"].map((s) => `[services.${s}]\nenabled = false\n`).join("");
