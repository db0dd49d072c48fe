// Data files imported `with { type: "file" }`: a path that works from source and, embedded, from
// the compiled binary.
declare module "*.tiktoken" {
  const path: string;
  export default path;
}
