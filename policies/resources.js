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

const CHECKS = [
  ["requests", "cpu", "cpuRequest", "a CPU request"],
  ["requests", "memory", "memoryRequest", "a memory request"],
  ["limits", "cpu", "cpuLimit", "a CPU limit"],
  ["limits", "memory", "memoryLimit", "a memory limit"],
];

export function validate(object) {
  const violations = [];
  for (const pod of podSpecs(object)) {
    for (const c of containers(pod.spec, pod.path)) {
      if (c.type === "ephemeralContainers") continue; // they cannot have resources
      const resources = c.container.resources || {};
      for (const [section, resource, control, what] of CHECKS) {
        const value = (resources[section] || {})[resource];
        const name = c.type === "initContainers" ? `init container "${c.container.name}"` : `container "${c.container.name}"`;
        if (value === undefined || value === null) {
          violations.push({ control, path: `${c.path}.resources.${section}.${resource}`, message: `${name} has no ${what}` });
        } else if (!quantity.isValid(value)) {
          violations.push({ control, path: `${c.path}.resources.${section}.${resource}`, message: `${name} ${section}.${resource} ${JSON.stringify(value)} is not a quantity` });
        }
      }
      const req = resources.requests || {};
      const lim = resources.limits || {};
      for (const resource of ["cpu", "memory"]) {
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
