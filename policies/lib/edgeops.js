// The "edgeops" helper module every policy may import:
//   import { podSpecs, containers, quantity, geo, image, semver } from "edgeops";
// Pure functions over plain JSON data: no I/O, no clock, no randomness.

/** Every kind podSpecs() finds a pod spec in: for a policy's match.kinds. */
export const POD_KINDS = Object.freeze(["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "PodTemplate", "Configuration"]);

const POD_TEMPLATE_PATHS = {
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
  PodTemplate: ["template"],
};

function at(object, path) {
  let value = object;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = value[key];
  }
  return value;
}

/**
 * Every pod spec inside an object: a Pod's own spec, the pod template of the workload kinds
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, PodTemplate),
 * an Akri Configuration's broker pod or job, and any other object with a spec.template.spec that
 * has containers. Each entry: { spec, metadata, path } with path the JSON path of the spec.
 */
export function podSpecs(object) {
  if (object === null || typeof object !== "object") return [];
  const kind = object.kind;
  if (kind === "Pod") {
    return object.spec ? [{ spec: object.spec, metadata: object.metadata || {}, path: "spec" }] : [];
  }
  const templatePath = POD_TEMPLATE_PATHS[kind];
  if (templatePath) {
    const template = at(object, templatePath);
    if (template && template.spec) {
      return [{ spec: template.spec, metadata: template.metadata || {}, path: templatePath.join(".") + ".spec" }];
    }
    return [];
  }
  if (kind === "Configuration" && typeof object.apiVersion === "string" && object.apiVersion.startsWith("akri.sh/")) {
    const broker = at(object, ["spec", "brokerSpec"]) || {};
    if (broker.brokerPodSpec) {
      return [{ spec: broker.brokerPodSpec, metadata: {}, path: "spec.brokerSpec.brokerPodSpec" }];
    }
    const job = at(broker, ["brokerJobSpec", "template"]);
    if (job && job.spec) {
      return [{ spec: job.spec, metadata: job.metadata || {}, path: "spec.brokerSpec.brokerJobSpec.template.spec" }];
    }
    return [];
  }
  const generic = at(object, ["spec", "template"]);
  if (generic && generic.spec && Array.isArray(generic.spec.containers)) {
    return [{ spec: generic.spec, metadata: generic.metadata || {}, path: "spec.template.spec" }];
  }
  return [];
}

/**
 * The containers of a pod spec: containers, initContainers and ephemeralContainers, each as
 * { container, type, index, path } where path is relative to the pod spec unless basePath is given.
 */
export function containers(podSpec, basePath) {
  const result = [];
  if (!podSpec) return result;
  for (const type of CONTAINER_TYPES) {
    const list = podSpec[type];
    if (!Array.isArray(list)) continue;
    const prefix = basePath ? `${basePath}.${type}[` : `${type}[`;
    for (let index = 0; index < list.length; index++) {
      result.push({ container: list[index], type, index, path: `${prefix}${index}]` });
    }
  }
  return result;
}
const CONTAINER_TYPES = ["containers", "initContainers", "ephemeralContainers"];

const BINARY = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** Kubernetes resource quantities: "500m", "1.5", "1Gi", "2M", "1e3". */
export const quantity = {
  /** The value as a number (cores, bytes, …), or NaN when the text is not a quantity. */
  parse(value) {
    if (typeof value === "number") return value;
    if (typeof value !== "string") return NaN;
    const match = QUANTITY.exec(value.trim());
    if (!match) return NaN;
    const number = Number(match[1]);
    if (match[3] !== undefined) return number * 10 ** Number(match[3]);
    const suffix = match[2] || "";
    return number * (BINARY[suffix] || DECIMAL[suffix]);
  },
  isValid(value) {
    return !Number.isNaN(quantity.parse(value));
  },
  /** -1, 0 or 1. */
  compare(a, b) {
    const x = quantity.parse(a);
    const y = quantity.parse(b);
    return x < y ? -1 : x > y ? 1 : 0;
  },
  /** The sum of the quantities that parse; missing values count as zero. */
  sum(values) {
    let total = 0;
    for (const value of values) {
      const parsed = quantity.parse(value);
      if (!Number.isNaN(parsed)) total += parsed;
    }
    return total;
  },
};

const EARTH_RADIUS_KM = 6371.0088;
const toRadians = (degrees) => (degrees * Math.PI) / 180;

function ringContains(ring, lon, lat) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function polygonContains(rings, lon, lat) {
  if (!rings.length || !ringContains(rings[0], lon, lat)) return false;
  for (let i = 1; i < rings.length; i++) if (ringContains(rings[i], lon, lat)) return false;
  return true;
}

/** Geography on WGS 84 points written { lat, lon }. */
export const geo = {
  /** Great-circle (haversine) distance in kilometres. */
  distanceKm(a, b) {
    const dLat = toRadians(b.lat - a.lat);
    const dLon = toRadians(b.lon - a.lon);
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRadians(a.lat)) * Math.cos(toRadians(b.lat)) * Math.sin(dLon / 2) ** 2;
    return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
  },
  /** Whether a point lies in a GeoJSON Polygon, MultiPolygon or Feature holding one (holes excluded). */
  pointInPolygon(point, geometry) {
    if (!point || !geometry) return false;
    if (geometry.type === "Feature") return geo.pointInPolygon(point, geometry.geometry);
    if (geometry.type === "Polygon") return polygonContains(geometry.coordinates, point.lon, point.lat);
    if (geometry.type === "MultiPolygon") return geometry.coordinates.some((p) => polygonContains(p, point.lon, point.lat));
    return false;
  },
};

/** Container image references, with Docker Hub's defaults filled in. */
export const image = {
  /**
   * Parses "nginx", "nginx:1.27", "ghcr.io/org/app:1.2@sha256:…" into
   * { registry, repository, tag, digest, reference } (tag and digest null when absent).
   */
  parse(reference) {
    let rest = String(reference);
    let digest = null;
    const at = rest.indexOf("@");
    if (at >= 0) {
      digest = rest.slice(at + 1);
      rest = rest.slice(0, at);
    }
    let tag = null;
    const colon = rest.lastIndexOf(":");
    if (colon > rest.lastIndexOf("/")) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
    let registry = "docker.io";
    let repository = rest;
    const slash = rest.indexOf("/");
    if (slash >= 0) {
      const first = rest.slice(0, slash);
      if (first.includes(".") || first.includes(":") || first === "localhost") {
        registry = first;
        repository = rest.slice(slash + 1);
      }
    }
    if (registry === "index.docker.io") registry = "docker.io";
    if (registry === "docker.io" && !repository.includes("/")) repository = "library/" + repository;
    return { registry, repository, tag, digest, reference: String(reference) };
  },
};

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Semantic versions (2.0.0; a leading "v" is accepted). */
export const semver = {
  valid(version) {
    return SEMVER.test(String(version));
  },
  /** -1, 0 or 1 by semver precedence; throws on an invalid version. */
  compare(a, b) {
    const x = SEMVER.exec(String(a));
    const y = SEMVER.exec(String(b));
    if (!x || !y) throw new TypeError(`not a semantic version: ${!x ? a : b}`);
    for (let i = 1; i <= 3; i++) {
      const d = Number(x[i]) - Number(y[i]);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    if (!x[4] && !y[4]) return 0;
    if (!x[4]) return 1;
    if (!y[4]) return -1;
    const pa = x[4].split(".");
    const pb = y[4].split(".");
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      if (pa[i] === undefined) return -1;
      if (pb[i] === undefined) return 1;
      const na = /^\d+$/.test(pa[i]);
      const nb = /^\d+$/.test(pb[i]);
      if (na && nb && Number(pa[i]) !== Number(pb[i])) return Number(pa[i]) < Number(pb[i]) ? -1 : 1;
      if (na !== nb) return na ? -1 : 1;
      if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
    }
    return 0;
  },
};
