// Templates imported `with { type: "text" }` are embedded into the compiled binary as strings.
declare module "*.plist" {
  const text: string;
  export default text;
}
