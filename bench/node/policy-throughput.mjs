// Runs the built-in policy library's validate() functions under Node over the objects in a JSON
// file, the same work EdgeOps does under Jint, and prints {"objects", "evaluations", "seconds"}: the
// median of ROUNDS timed runs after one warm-up run. Given policy names, only those policies run.
// Usage: node policy-throughput.mjs OBJECTS.json POLICIES_DIR [ROUNDS] [POLICY...]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [objectsFile, policiesDir, roundsText, ...only] = process.argv.slice(2);
const rounds = Number(roundsText || 5);

// Make "edgeops" and "edgeops/pss" importable, as the EdgeOps sandbox does.
const work = fs.mkdtempSync(path.join(os.tmpdir(), "edgeops-node-"));
const pkg = path.join(work, "node_modules", "edgeops");
fs.mkdirSync(pkg, { recursive: true });
fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "edgeops", type: "module", exports: { ".": "./edgeops.js", "./pss": "./pss.js" } }));
fs.copyFileSync(path.join(policiesDir, "lib", "edgeops.js"), path.join(pkg, "edgeops.js"));
fs.copyFileSync(path.join(policiesDir, "lib", "pss.js"), path.join(pkg, "pss.js"));
const policies = [];
for (const file of fs.readdirSync(policiesDir).filter((f) => f.endsWith(".js")).sort()) {
  fs.copyFileSync(path.join(policiesDir, file), path.join(work, file));
  const module = await import(pathToFileURL(path.join(work, file)).href);
  if (typeof module.validate === "function" && (only.length === 0 || only.includes(module.policy.name))) policies.push(module);
}

const texts = JSON.parse(fs.readFileSync(objectsFile, "utf8")).map((o) => JSON.stringify(o));
function freeze(value) {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) freeze(value[key]);
  }
  return value;
}
function applies(policy, object) {
  const match = policy.policy.match || {};
  if (match.kinds && !match.kinds.includes("*") && !match.kinds.includes(object.kind)) return false;
  if (match.labels && match.labels.length) {
    const labels = (object.metadata || {}).labels || {};
    return match.labels.some((k) => k in labels);
  }
  return true;
}

function run() {
  let evaluations = 0;
  for (const text of texts) {
    const object = freeze(JSON.parse(text));
    for (const policy of policies) {
      if (!applies(policy, object)) continue;
      const sink = [];
      const ctx = { cluster: null, workload: null, fleet: null, params: {}, now: "2026-01-01T00:00:00.000Z",
        deny: (m) => sink.push(m), warn: (m) => sink.push(m), report() {} };
      policy.validate(object, ctx);
      evaluations++;
    }
  }
  return evaluations;
}

run(); // warm-up, as the Jint side warms up too
const times = [];
let evaluations = 0;
for (let round = 0; round < rounds; round++) {
  const start = process.hrtime.bigint();
  evaluations = run();
  times.push(Number(process.hrtime.bigint() - start) / 1e9);
}
times.sort((a, b) => a - b);
const seconds = times[Math.floor(times.length / 2)];
fs.rmSync(work, { recursive: true, force: true });
console.log(JSON.stringify({ objects: texts.length, evaluations, seconds }));
