// Image provenance: images come from allowed registries, carry a real tag (never :latest or none),
// and are pinned by digest on the tiers that must not drift (by default the micro edge: robots).
//
// parameters (fleet.yaml, spec.policies.parameters.image-provenance):
//   allowedRegistries: ["ghcr.io/pomona-robotics", "registry.k8s.io"]   registry or registry/path prefixes
//   registriesByLabel: { "country=NZ": ["nz.registry.example.com"] }    more prefixes for clusters with a label
//   digestRequiredTiers: ["micro"]                                       tiers (label "tier") needing digests
import { podSpecs, containers, image, POD_KINDS } from "edgeops";

export const policy = {
  name: "image-provenance",
  description: "Images from allowed registries, with a pinned tag, and by digest where the tier requires it",
  severity: "error",
  controls: ["allowedRegistry", "pinnedTag", "digestRequired"],
  match: { kinds: POD_KINDS },
};

function allowedPrefixes(ctx) {
  const prefixes = [...(ctx.params.allowedRegistries || [])];
  const byLabel = ctx.params.registriesByLabel || {};
  for (const selector of Object.keys(byLabel)) {
    const [key, value] = selector.split("=");
    if (ctx.cluster && ctx.cluster.labels[key] === value) prefixes.push(...byLabel[selector]);
  }
  return prefixes;
}

function fromAllowedRegistry(ref, prefixes) {
  const full = `${ref.registry}/${ref.repository}`;
  return prefixes.some((p) => full === p || full.startsWith(p.endsWith("/") ? p : p + "/") || ref.registry === p);
}

export function validate(object, ctx) {
  const prefixes = allowedPrefixes(ctx);
  const tiers = ctx.params.digestRequiredTiers || ["micro"];
  const digestRequired = ctx.cluster !== null && tiers.includes(ctx.cluster.labels.tier);
  const violations = [];
  for (const pod of podSpecs(object)) {
    for (const c of containers(pod.spec, pod.path)) {
      if (typeof c.container.image !== "string") continue;
      const ref = image.parse(c.container.image);
      const path = `${c.path}.image`;
      if (prefixes.length > 0 && !fromAllowedRegistry(ref, prefixes)) {
        violations.push({ control: "allowedRegistry", path, message: `image ${ref.reference} is not from an allowed registry (${prefixes.join(", ")})` });
      }
      if (ref.digest === null && (ref.tag === null || ref.tag === "latest")) {
        violations.push({ control: "pinnedTag", path, message: `image ${ref.reference} must name a version tag, not ${ref.tag === null ? "no tag" : ":latest"}` });
      }
      if (digestRequired && ref.digest === null) {
        violations.push({ control: "digestRequired", path, message: `image ${ref.reference} must be pinned by digest (@sha256:…) on tier ${ctx.cluster.labels.tier}` });
      }
    }
  }
  return violations;
}
