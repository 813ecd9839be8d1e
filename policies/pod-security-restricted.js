// Pod Security Standards, restricted: current pod hardening best practice, on top of baseline.
import { podSpecs, POD_KINDS } from "edgeops";
import { evaluate, RESTRICTED_CONTROLS } from "edgeops/pss";

export const policy = {
  name: "pod-security-restricted",
  description: "Pod Security Standards (restricted, Kubernetes v1.37): baseline plus the restricted controls",
  severity: "error",
  controls: RESTRICTED_CONTROLS,
  match: { kinds: POD_KINDS },
};

export function validate(object) {
  return evaluate(podSpecs(object), "restricted", object);
}
