// Pod Security Standards, baseline: blocks known privilege escalations. Every violation names the
// pod-security-admission check it breaks.
import { podSpecs, POD_KINDS } from "edgeops";
import { evaluate, BASELINE_CONTROLS } from "edgeops/pss";

export const policy = {
  name: "pod-security-baseline",
  description: "Pod Security Standards (baseline, Kubernetes v1.37) for the pod spec inside every workload kind",
  severity: "error",
  controls: BASELINE_CONTROLS,
  match: { kinds: POD_KINDS },
};

export function validate(object) {
  return evaluate(podSpecs(object), "baseline", object);
}
