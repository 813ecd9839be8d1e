// A fleet-specific policy: a picking robot is one small computer, so a workload on it runs one
// replica, and anything that scales out belongs on the farm gateway or the regional hub.
export const policy = {
  name: "robot-replicas",
  description: "Workloads on robots (tier micro) run a single replica",
  severity: "warning",
  controls: ["singleReplica"],
  match: { kinds: ["Deployment", "StatefulSet"] },
};

export function validate(object, ctx) {
  if (ctx.cluster.labels.tier !== "micro") return;
  const replicas = object.spec.replicas === undefined ? 1 : object.spec.replicas;
  if (replicas > 1) {
    return { control: "singleReplica", path: "spec.replicas", message: `runs ${replicas} replicas on a robot; use 1` };
  }
}
