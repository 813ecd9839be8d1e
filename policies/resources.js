// Resource requests and limits: every container (and init container) says how much CPU and memory
// it needs and may use, so the scheduler, the cost estimate and the capacity check can trust them.
import { podSpecs, containers, quantity, POD_KINDS } from "edgeops";

export const policy = {
  name: "resources",
  description: "CPU and memory requests and limits on every container",
  severity: "error",
  controls: ["cpuRequest", "memoryRequest", "cpuLimit", "memoryLimit"],
  match: { kinds: POD_KINDS },
};

const SECTIONS = ["requests", "limits"];
const RESOURCES = ["cpu", "memory"];
const CONTROLS = { requests: { cpu: "cpuRequest", memory: "memoryRequest" }, limits: { cpu: "cpuLimit", memory: "memoryLimit" } };
const WHAT = { requests: { cpu: "a CPU request", memory: "a memory request" }, limits: { cpu: "a CPU limit", memory: "a memory limit" } };
const NONE = Object.freeze({});

export function validate(object) {
  const violations = [];
  for (const pod of podSpecs(object)) {
    for (const c of containers(pod.spec, pod.path)) {
      if (c.type === "ephemeralContainers") continue; // they cannot have resources
      const resources = c.container.resources || NONE;
      const name = () => c.type === "initContainers" ? `init container "${c.container.name}"` : `container "${c.container.name}"`;
      for (const section of SECTIONS) {
        const values = resources[section] || NONE;
        for (const resource of RESOURCES) {
          const value = values[resource];
          if (value === undefined || value === null) {
            violations.push({ control: CONTROLS[section][resource], path: `${c.path}.resources.${section}.${resource}`, message: `${name()} has no ${WHAT[section][resource]}` });
          } else if (!quantity.isValid(value)) {
            violations.push({ control: CONTROLS[section][resource], path: `${c.path}.resources.${section}.${resource}`, message: `${name()} ${section}.${resource} ${JSON.stringify(value)} is not a quantity` });
          }
        }
      }
      const req = resources.requests || NONE;
      const lim = resources.limits || NONE;
      for (const resource of RESOURCES) {
        if (req[resource] !== undefined && lim[resource] !== undefined && quantity.compare(req[resource], lim[resource]) > 0) {
          violations.push({
            control: resource === "cpu" ? "cpuLimit" : "memoryLimit",
            path: `${c.path}.resources.limits.${resource}`,
            message: `${c.container.name}: ${resource} limit ${lim[resource]} is below its request ${req[resource]}`,
          });
        }
      }
    }
  }
  return violations;
}
