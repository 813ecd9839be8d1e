// The Pod Security Standards (Kubernetes v1.37 profile) as composable checks, named by the check IDs
// of Kubernetes' pod-security-admission. Imported as "edgeops/pss" by pod-security-baseline and
// pod-security-restricted; other policies may use it too.
//
// Each check takes (pod, object) where pod is an entry of podSpecs(object) and returns violations
// { control, message, path }. A restricted check does not repeat what a baseline check at the same
// level already reports (added capabilities, hostPath volumes, procMount without user namespaces),
// except for an Unconfined seccomp profile, which breaks both rules.

import { containers } from "edgeops";

const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
  "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
  "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat",
]);
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
const RESTRICTED_VOLUME_TYPES = new Set([
  "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "image",
]);
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

// What a missing section reads as: (x || NONE).field, without a new object each time.
const NONE = Object.freeze({});
const NO_ITEMS = Object.freeze([]);
const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"];
const HOOKS = ["postStart", "preStop"];
const HANDLERS = ["httpGet", "tcpSocket"];
const KIND_LABELS = { containers: "container", initContainers: "init container", ephemeralContainers: "ephemeral container" };

const podSc = (pod) => pod.spec.securityContext || NONE;
const isWindows = (pod) => pod.spec.os && pod.spec.os.name === "windows";
// The containers of a pod, computed once per pod for all the checks, each with its security context
// (NONE when it has none) and the label its messages name it by.
function each(pod) {
  if (pod.containers === undefined) {
    const list = containers(pod.spec, pod.path);
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      c.sc = c.container.securityContext || NONE;
      c.label = `${KIND_LABELS[c.type]} "${c.container.name}"`;
    }
    pod.containers = list;
  }
  return pod.containers;
}
const sc = (c) => c.sc;
const label = (c) => c.label;
const isSet = (value) => value !== undefined && value !== null;
function usesHostProcess(pod) {
  if ((podSc(pod).windowsOptions || NONE).hostProcess === true) return true;
  for (const c of each(pod)) if ((c.sc.windowsOptions || NONE).hostProcess === true) return true;
  return false;
}

function violation(control, message, path) {
  return { control, message, path };
}

export const baselineChecks = {
  hostNamespaces(pod) {
    const out = [];
    // A Windows HostProcess pod must use the host network; windowsHostProcess reports that pod.
    if (pod.spec.hostNetwork === true && !usesHostProcess(pod)) out.push(violation("hostNamespaces", "hostNetwork must not be true", `${pod.path}.hostNetwork`));
    if (pod.spec.hostPID === true) out.push(violation("hostNamespaces", "hostPID must not be true", `${pod.path}.hostPID`));
    if (pod.spec.hostIPC === true) out.push(violation("hostNamespaces", "hostIPC must not be true", `${pod.path}.hostIPC`));
    return out;
  },
  privileged(pod) {
    const out = [];
    for (const c of each(pod)) {
      if (c.sc.privileged === true) out.push(violation("privileged", `${label(c)} must not be privileged`, `${c.path}.securityContext.privileged`));
    }
    return out;
  },
  capabilities_baseline(pod) {
    const out = [];
    for (const c of each(pod)) {
      const added = (c.sc.capabilities || NONE).add || NO_ITEMS;
      for (let i = 0; i < added.length; i++) {
        const cap = added[i];
        if (!BASELINE_CAPABILITIES.has(cap)) {
          out.push(violation("capabilities_baseline", `${label(c)} must not add capability ${JSON.stringify(cap)}`, `${c.path}.securityContext.capabilities.add[${i}]`));
        }
      }
    }
    return out;
  },
  hostPathVolumes(pod) {
    const out = [];
    const volumes = pod.spec.volumes || NO_ITEMS;
    for (let i = 0; i < volumes.length; i++) {
      const v = volumes[i];
      if (isSet(v.hostPath)) out.push(violation("hostPathVolumes", `volume "${v.name}" must not be a hostPath`, `${pod.path}.volumes[${i}].hostPath`));
    }
    return out;
  },
  hostPorts(pod) {
    const out = [];
    for (const c of each(pod)) {
      const ports = c.container.ports || NO_ITEMS;
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i];
        if (isSet(p.hostPort) && p.hostPort !== 0) {
          out.push(violation("hostPorts", `${label(c)} must not use hostPort ${p.hostPort}`, `${c.path}.ports[${i}].hostPort`));
        }
      }
    }
    return out;
  },
  appArmorProfile(pod) {
    const out = [];
    const allowedType = (t) => t === undefined || t === null || t === "RuntimeDefault" || t === "Localhost";
    const podType = (podSc(pod).appArmorProfile || NONE).type;
    if (!allowedType(podType)) out.push(violation("appArmorProfile", `pod AppArmor profile must not be ${podType}`, `${pod.path}.securityContext.appArmorProfile.type`));
    for (const c of each(pod)) {
      const type = (c.sc.appArmorProfile || NONE).type;
      if (!allowedType(type)) out.push(violation("appArmorProfile", `${label(c)} AppArmor profile must not be ${type}`, `${c.path}.securityContext.appArmorProfile.type`));
    }
    const annotations = (pod.metadata || NONE).annotations || NONE;
    for (const key of Object.keys(annotations)) {
      if (!key.startsWith(APPARMOR_ANNOTATION)) continue;
      const metadataPath = pod.path.replace(/spec$/, "metadata");
      const value = annotations[key];
      if (value !== "runtime/default" && !String(value).startsWith("localhost/")) {
        out.push(violation("appArmorProfile", `annotation ${key} must not be ${JSON.stringify(value)}`, `${metadataPath}.annotations["${key}"]`));
      }
    }
    return out;
  },
  seLinuxOptions(pod) {
    const out = [];
    const check = (options, where, path) => {
      if (!options) return;
      if (options.type !== undefined && !SELINUX_TYPES.has(options.type)) out.push(violation("seLinuxOptions", `${where} SELinux type must not be ${JSON.stringify(options.type)}`, `${path}.type`));
      if (options.user) out.push(violation("seLinuxOptions", `${where} must not set an SELinux user`, `${path}.user`));
      if (options.role) out.push(violation("seLinuxOptions", `${where} must not set an SELinux role`, `${path}.role`));
    };
    check(podSc(pod).seLinuxOptions, "pod", `${pod.path}.securityContext.seLinuxOptions`);
    for (const c of each(pod)) check(c.sc.seLinuxOptions, label(c), `${c.path}.securityContext.seLinuxOptions`);
    return out;
  },
  procMount(pod) {
    // Since Kubernetes 1.35 baseline allows an unmasked /proc in a user namespace (hostUsers: false).
    if (pod.spec.hostUsers === false) return [];
    const out = [];
    for (const c of each(pod)) {
      const m = c.sc.procMount;
      if (isSet(m) && m !== "Default") out.push(violation("procMount", `${label(c)} must not use procMount ${m} without a user namespace`, `${c.path}.securityContext.procMount`));
    }
    return out;
  },
  seccompProfile_baseline(pod) {
    const out = [];
    if ((podSc(pod).seccompProfile || NONE).type === "Unconfined") out.push(violation("seccompProfile_baseline", "pod seccomp profile must not be Unconfined", `${pod.path}.securityContext.seccompProfile.type`));
    for (const c of each(pod)) {
      if ((c.sc.seccompProfile || NONE).type === "Unconfined") {
        out.push(violation("seccompProfile_baseline", `${label(c)} seccomp profile must not be Unconfined`, `${c.path}.securityContext.seccompProfile.type`));
      }
    }
    return out;
  },
  sysctls(pod) {
    const out = [];
    const sysctls = podSc(pod).sysctls || NO_ITEMS;
    for (let i = 0; i < sysctls.length; i++) {
      const name = sysctls[i].name;
      if (!SAFE_SYSCTLS.has(name)) out.push(violation("sysctls", `sysctl ${JSON.stringify(name)} is not in the safe set`, `${pod.path}.securityContext.sysctls[${i}].name`));
    }
    return out;
  },
  windowsHostProcess(pod) {
    const out = [];
    if ((podSc(pod).windowsOptions || NONE).hostProcess === true) out.push(violation("windowsHostProcess", "pod must not be a Windows HostProcess pod", `${pod.path}.securityContext.windowsOptions.hostProcess`));
    for (const c of each(pod)) {
      if ((c.sc.windowsOptions || NONE).hostProcess === true) {
        out.push(violation("windowsHostProcess", `${label(c)} must not be a Windows HostProcess container`, `${c.path}.securityContext.windowsOptions.hostProcess`));
      }
    }
    return out;
  },
  hostProbesAndHostLifecycle(pod) {
    const out = [];
    // Where and path name the handler, e.g. "readinessProbe" and "readinessProbe", or "preStop hook" and "lifecycle.preStop".
    const handler = (c, h, where, path) => {
      for (const kind of HANDLERS) {
        const action = h[kind];
        if (action && isSet(action.host) && action.host !== "") {
          out.push(violation("hostProbesAndHostLifecycle", `${label(c)} ${where} must not set ${kind}.host (${action.host})`, `${c.path}.${path}.${kind}.host`));
        }
      }
    };
    for (const c of each(pod)) {
      const container = c.container;
      for (const probe of PROBES) {
        if (container[probe]) handler(c, container[probe], probe, probe);
      }
      const lifecycle = container.lifecycle;
      if (!lifecycle) continue;
      for (const hook of HOOKS) {
        if (lifecycle[hook]) handler(c, lifecycle[hook], `${hook} hook`, `lifecycle.${hook}`);
      }
    }
    return out;
  },
};

export const restrictedChecks = {
  restrictedVolumes(pod) {
    const out = [];
    const volumes = pod.spec.volumes || NO_ITEMS;
    for (let i = 0; i < volumes.length; i++) {
      const v = volumes[i];
      for (const key of Object.keys(v)) {
        if (key === "name" || RESTRICTED_VOLUME_TYPES.has(key) || !isSet(v[key])) continue;
        out.push(violation("restrictedVolumes", `volume "${v.name}" must not be of type ${key}`, `${pod.path}.volumes[${i}].${key}`));
      }
    }
    return out;
  },
  allowPrivilegeEscalation(pod) {
    const out = [];
    if (isWindows(pod)) return out;
    for (const c of each(pod)) {
      if (c.sc.allowPrivilegeEscalation !== false) {
        out.push(violation("allowPrivilegeEscalation", `${label(c)} must set securityContext.allowPrivilegeEscalation to false`, `${c.path}.securityContext.allowPrivilegeEscalation`));
      }
    }
    return out;
  },
  capabilities_restricted(pod) {
    if (isWindows(pod)) return [];
    const out = [];
    for (const c of each(pod)) {
      const caps = c.sc.capabilities || NONE;
      if (!(caps.drop || NO_ITEMS).includes("ALL")) {
        out.push(violation("capabilities_restricted", `${label(c)} must drop ALL capabilities`, `${c.path}.securityContext.capabilities.drop`));
      }
      const added = caps.add || NO_ITEMS;
      for (let i = 0; i < added.length; i++) {
        const cap = added[i];
        // Capabilities outside the baseline set are reported by capabilities_baseline.
        if (cap !== "NET_BIND_SERVICE" && BASELINE_CAPABILITIES.has(cap)) {
          out.push(violation("capabilities_restricted", `${label(c)} may add only NET_BIND_SERVICE, not ${cap}`, `${c.path}.securityContext.capabilities.add[${i}]`));
        }
      }
    }
    return out;
  },
  runAsNonRoot(pod) {
    const out = [];
    const podValue = podSc(pod).runAsNonRoot;
    if (podValue === false) out.push(violation("runAsNonRoot", "pod must not set runAsNonRoot to false", `${pod.path}.securityContext.runAsNonRoot`));
    for (const c of each(pod)) {
      const value = c.sc.runAsNonRoot;
      if (value === false) {
        out.push(violation("runAsNonRoot", `${label(c)} must not set runAsNonRoot to false`, `${c.path}.securityContext.runAsNonRoot`));
      } else if (value !== true && podValue !== true && podValue !== false) {
        out.push(violation("runAsNonRoot", `${label(c)} must set runAsNonRoot to true (or the pod must)`, `${c.path}.securityContext.runAsNonRoot`));
      }
    }
    return out;
  },
  runAsUser(pod) {
    const out = [];
    if (podSc(pod).runAsUser === 0) out.push(violation("runAsUser", "pod must not run as user 0", `${pod.path}.securityContext.runAsUser`));
    for (const c of each(pod)) {
      if (c.sc.runAsUser === 0) out.push(violation("runAsUser", `${label(c)} must not run as user 0`, `${c.path}.securityContext.runAsUser`));
    }
    return out;
  },
  seccompProfile_restricted(pod) {
    if (isWindows(pod)) return [];
    const out = [];
    const allowed = (t) => t === "RuntimeDefault" || t === "Localhost";
    const podType = (podSc(pod).seccompProfile || NONE).type;
    if (podType !== undefined && podType !== null && !allowed(podType)) {
      out.push(violation("seccompProfile_restricted", `pod seccomp profile must be RuntimeDefault or Localhost, not ${podType}`, `${pod.path}.securityContext.seccompProfile.type`));
    }
    for (const c of each(pod)) {
      const type = (c.sc.seccompProfile || NONE).type;
      if (type !== undefined && type !== null) {
        if (!allowed(type)) out.push(violation("seccompProfile_restricted", `${label(c)} seccomp profile must be RuntimeDefault or Localhost, not ${type}`, `${c.path}.securityContext.seccompProfile.type`));
      } else if (podType === undefined || podType === null) {
        out.push(violation("seccompProfile_restricted", `${label(c)} must set a seccomp profile (RuntimeDefault or Localhost), or the pod must`, `${c.path}.securityContext.seccompProfile`));
      }
    }
    return out;
  },
  procMount_restricted(pod) {
    // Without a user namespace the baseline procMount check already reports this.
    const out = [];
    if (pod.spec.hostUsers !== false) return out;
    for (const c of each(pod)) {
      const m = c.sc.procMount;
      if (isSet(m) && m !== "Default") out.push(violation("procMount_restricted", `${label(c)} must use the Default procMount`, `${c.path}.securityContext.procMount`));
    }
    return out;
  },
};

export const BASELINE_CONTROLS = Object.keys(baselineChecks);
export const RESTRICTED_CONTROLS = [...BASELINE_CONTROLS, ...Object.keys(restrictedChecks)];

const LEVELS = {
  baseline: Object.values(baselineChecks),
  restricted: [...Object.values(baselineChecks), ...Object.values(restrictedChecks)],
};

/** Runs the checks of a level ("baseline" or "restricted") on every pod spec of podSpecs(object). */
export function evaluate(pods, level, object) {
  const checks = level === "restricted" ? LEVELS.restricted : LEVELS.baseline;
  const out = [];
  for (const pod of pods) {
    for (const check of checks) {
      const found = check(pod, object);
      for (let i = 0; i < found.length; i++) out[out.length] = found[i];
    }
  }
  return out;
}
