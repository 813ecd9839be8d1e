// Data residency: objects labelled with a data class run only in the countries that class may live
// in, and a workload with a geofence never runs on a cluster outside it (even one that moved).
//
// parameters: { classes: { personal: ["ES", "IT", "PT", "FR"], telemetry: ["*"] } }
import { geo } from "edgeops";

export const policy = {
  name: "data-residency",
  description: "Data classes stay in their allowed countries; geofenced workloads stay inside their fence",
  severity: "error",
  controls: ["country", "unknownDataClass", "geofence"],
  match: { labels: ["edgeops.io/data-class"] },
};

export function validate(object, ctx) {
  const dataClass = object.metadata.labels["edgeops.io/data-class"];
  const allowed = (ctx.params.classes || {})[dataClass];
  const path = 'metadata.labels["edgeops.io/data-class"]';
  if (!Array.isArray(allowed)) {
    return { control: "unknownDataClass", path, message: `data class "${dataClass}" has no residency rule (parameters.classes)` };
  }
  if (allowed.includes("*")) return;
  const country = ctx.cluster ? ctx.cluster.labels.country : undefined;
  if (!allowed.includes(country)) {
    return { control: "country", path, message: `data class "${dataClass}" may run only in ${allowed.join(", ")}; cluster country is ${country || "unknown"}` };
  }
}

export function validateCluster(desired, ctx) {
  const violations = [];
  const location = ctx.cluster.location;
  for (const name of Object.keys(ctx.workloads || {})) {
    const fence = ctx.workloads[name].placement.geofence;
    if (!fence) continue;
    // A moving cluster's agent keeps a workload while it is outside by less than the placement's margin, or for
    // less than its dwell (hysteresis the fleet declared); that decision, not the raw fix, is the rule here.
    const placed = ctx.cluster.facts && ctx.cluster.facts.placement;
    if (placed && placed[`Workload/${name}`] === true) continue;
    if (!location || !geo.pointInPolygon(location, fence)) {
      violations.push({ control: "geofence", message: `workload ${name} is geofenced, but ${ctx.cluster.name} is ${location ? `at ${location.lat}, ${location.lon}, outside the fence` : "of unknown location"}` });
    }
  }
  return violations;
}
