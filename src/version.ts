import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
export const versionLine = () => `atrad ${VERSION} (bun ${Bun.version}, ${process.platform}-${process.arch})`;
