// Cost and capacity per cluster: what the workloads request must fit the cluster's capacity with
// headroom, and what it costs at the cluster's rates must fit its monthly budget. The estimate is
// reported for validate's per-cluster summary.
//
// parameters: { headroom: 0.8, nodesPerCluster: 1 }
import { podSpecs, containers, quantity } from "edgeops";

export const policy = {
  name: "cost-budget",
  description: "Summed requests within capacity x headroom; monthly cost estimate within the cluster's budget",
  severity: "error",
  controls: ["cpuCapacity", "memoryCapacity", "monthlyBudget"],
  match: { kinds: ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Configuration"] },
};

const HOURS_PER_MONTH = 730;
const GIB = 2 ** 30;

function copies(object, nodes) {
  const spec = object.spec || {};
  switch (object.kind) {
    case "Deployment": case "StatefulSet": case "ReplicaSet": case "ReplicationController":
      return typeof spec.replicas === "number" ? spec.replicas : 1;
    case "DaemonSet":
      return nodes;
    case "Job":
      return typeof spec.parallelism === "number" ? spec.parallelism : 1;
    case "CronJob":
      return ((spec.jobTemplate || {}).spec || {}).parallelism || 1;
    default:
      return 1;
  }
}

/** A pod's effective request: the larger of its containers' sum and its largest init container. */
function podRequest(spec, resource) {
  let running = 0;
  let init = 0;
  for (const c of containers(spec)) {
    const value = quantity.parse(((c.container.resources || {}).requests || {})[resource]);
    const amount = Number.isNaN(value) ? 0 : value;
    if (c.type === "containers") running += amount;
    else if (c.type === "initContainers") init = Math.max(init, amount);
  }
  return Math.max(running, init);
}

export function validateCluster(desired, ctx) {
  const nodes = ctx.params.nodesPerCluster || 1;
  const headroom = ctx.params.headroom === undefined ? 0.8 : ctx.params.headroom;
  let cpu = 0;
  let memory = 0;
  let biggest = null;
  for (const object of desired) {
    const n = copies(object, nodes);
    for (const pod of podSpecs(object)) {
      const c = podRequest(pod.spec, "cpu") * n;
      const m = podRequest(pod.spec, "memory") * n;
      cpu += c;
      memory += m;
      if (biggest === null || c > biggest.cpu) biggest = { object, cpu: c, path: pod.path };
    }
  }

  // ctx.cluster.name is read only when reporting, so that results are shared between clusters alike
  // in capacity and cost.
  const violations = [];
  const capacity = ctx.cluster.capacity || {};
  const target = biggest ? { object: biggest.object, path: `${biggest.path}.containers` } : {};
  const cpuCapacity = quantity.parse(capacity.cpu);
  if (!Number.isNaN(cpuCapacity) && cpu > cpuCapacity * headroom) {
    violations.push({ control: "cpuCapacity", ...target,
      message: `workloads request ${cpu.toFixed(2)} CPU; ${ctx.cluster.name} has ${capacity.cpu} x ${headroom} headroom = ${(cpuCapacity * headroom).toFixed(2)}` });
  }
  const memoryCapacity = quantity.parse(capacity.memory);
  if (!Number.isNaN(memoryCapacity) && memory > memoryCapacity * headroom) {
    violations.push({ control: "memoryCapacity", ...target,
      message: `workloads request ${(memory / GIB).toFixed(2)} GiB memory; ${ctx.cluster.name} has ${capacity.memory} x ${headroom} headroom = ${(memoryCapacity * headroom / GIB).toFixed(2)} GiB` });
  }

  const cost = ctx.cluster.cost;
  if (cost) {
    const monthly = (cpu * (cost.cpuHour || 0) + (memory / GIB) * (cost.memoryGiBHour || 0)) * HOURS_PER_MONTH;
    ctx.report("monthlyCost", `${monthly.toFixed(2)} ${cost.currency}`);
    if (typeof cost.monthlyBudget === "number" && monthly > cost.monthlyBudget) {
      violations.push({ control: "monthlyBudget", ...target,
        message: `estimated ${monthly.toFixed(2)} ${cost.currency}/month exceeds ${ctx.cluster.name}'s budget of ${cost.monthlyBudget} ${cost.currency}` });
    }
  }
  return violations;
}
