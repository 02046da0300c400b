// Loaded first by every `npm run` entry point (`node --import ./scripts/require-node.mjs …`) and by the bin
// shims: on a Node.js too old to run this repository's TypeScript sources, one line that says so and how to
// fix it, instead of ERR_UNKNOWN_FILE_EXTENSION and a stack trace. Plain JavaScript: it must itself run
// on old versions.
const NEED = [22, 18]; // type stripping without a flag
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < NEED[0] || (major === NEED[0] && minor < NEED[1])) {
  process.stderr.write(
    `minitask: Node.js ${process.versions.node} is too old; ${NEED.join(".")} or newer is needed ` +
      "(in this repository: . scripts/toolchain.sh puts Node 24 on PATH)\n",
  );
  process.exit(1);
}
