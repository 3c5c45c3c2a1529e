// Run a Python file under Pyodide in Node, offline: the xlwings Lite runtime as the tests and bench/lite.py use it.
//
//   node run.mjs --modules DIR --wheels DIR [--wheels DIR ...] [--mount HOST=GUEST ...] SCRIPT.py [ARG ...]
//
// --modules: the node_modules holding the pinned npm `pyodide` (tests/pyodide_env.py installs it);
// --wheels: every *.whl there is installed by micropip from the local file (micropip itself is loaded first);
// --mount: host folders the script sees (Emscripten NODEFS). SCRIPT runs with sys.argv = [SCRIPT, ARG ...].
// Nothing may reach the network: fetch and every socket are replaced by functions that refuse and record the
// attempt; the exit code is 3 if there was one, 1 if the script raised, 0 otherwise.
import net from "node:net";
import path from "node:path";
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const attempts = [];
globalThis.fetch = async (url) => {
  attempts.push(String(url));
  throw new Error(`network access refused in this test: ${url}`);
};
net.Socket.prototype.connect = function (...args) {
  attempts.push(`socket ${JSON.stringify(args[0])}`);
  throw new Error("network access refused in this test");
};

const argv = process.argv.slice(2);
const mounts = [];
const wheelDirs = [];
let modules;
while (argv.length && argv[0].startsWith("--")) {
  const [flag, value] = argv.splice(0, 2);
  if (flag === "--modules") modules = path.resolve(value);
  else if (flag === "--wheels") wheelDirs.push(path.resolve(value));
  else if (flag === "--mount") mounts.push(value.split("="));
  else throw new Error(`unknown option ${flag}`);
}
const [script, ...scriptArgs] = argv;
if (!modules || !wheelDirs.length || !script) {
  throw new Error("usage: node run.mjs --modules DIR --wheels DIR SCRIPT.py");
}

const started = performance.now();
const { loadPyodide } = await import(path.join(modules, "pyodide", "pyodide.mjs"));
const py = await loadPyodide({ env: { HOME: "/home/pyodide" } });
const loaded = performance.now();
const wheels = [];   // [host folder, guest folder, file]
wheelDirs.forEach((dir, i) => {
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".whl")).sort()) wheels.push([dir, `/wheels/${i}`, f]);
});
const micropip = wheels.find(([, , f]) => f.startsWith("micropip-"));
await py.loadPackage(path.join(micropip[0], micropip[2]), { messageCallback: () => {} });
for (const [host, guest] of [...wheelDirs.map((dir, i) => [dir, `/wheels/${i}`]), ...mounts]) {
  py.FS.mkdirTree(guest);
  py.FS.mount(py.FS.filesystems.NODEFS, { root: path.resolve(host) }, guest);
}
const others = wheels.filter((w) => w !== micropip).map(([, guest, f]) => `emfs:${guest}/${f}`);
py.globals.set("_WHEELS", py.toPy(others));
await py.runPythonAsync("import micropip\nawait micropip.install(_WHEELS, deps=False)\ndel _WHEELS");
const installed = performance.now();
console.error(`[pyodide ${py.version}] loaded in ${((loaded - started) / 1000).toFixed(2)} s; ` +
  `${others.length} wheels installed in ${((installed - loaded) / 1000).toFixed(2)} s`);

let code = 0;
try {
  py.globals.set("_ARGV", py.toPy([script, ...scriptArgs]));
  py.runPython("import sys\nsys.argv = list(_ARGV)\ndel _ARGV");
  await py.runPythonAsync(readFileSync(script, "utf8"), { filename: path.basename(script) });
} catch (err) {
  console.error(String(err.message ?? err).slice(-6000));
  code = 1;
}
if (attempts.length) {
  console.error(`network access attempted: ${attempts.join(", ")}`);
  code = 3;
}
process.exit(code);
