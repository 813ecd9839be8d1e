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

const sc = (container) => container.securityContext || {};
const podSc = (pod) => pod.spec.securityContext || {};
const isWindows = (pod) => pod.spec.os && pod.spec.os.name === "windows";
const label = (c) => `${c.type === "containers" ? "container" : c.type === "initContainers" ? "init container" : "ephemeral container"} "${c.container.name}"`;
// The containers of a pod, computed once per pod for all the checks.
const each = (pod) => pod.containers || (pod.containers = containers(pod.spec, pod.path));
const usesHostProcess = (pod) =>
  (podSc(pod).windowsOptions || {}).hostProcess === true || each(pod).some((c) => (sc(c.container).windowsOptions || {}).hostProcess === true);

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
    return each(pod)
      .filter((c) => sc(c.container).privileged === true)
      .map((c) => violation("privileged", `${label(c)} must not be privileged`, `${c.path}.securityContext.privileged`));
  },
  capabilities_baseline(pod) {
    const out = [];
    for (const c of each(pod)) {
      const added = (sc(c.container).capabilities || {}).add || [];
      added.forEach((cap, i) => {
        if (!BASELINE_CAPABILITIES.has(cap)) {
          out.push(violation("capabilities_baseline", `${label(c)} must not add capability ${JSON.stringify(cap)}`, `${c.path}.securityContext.capabilities.add[${i}]`));
        }
      });
    }
    return out;
  },
  hostPathVolumes(pod) {
    return (pod.spec.volumes || [])
      .map((v, i) => [v, i])
      .filter(([v]) => v.hostPath !== undefined && v.hostPath !== null)
      .map(([v, i]) => violation("hostPathVolumes", `volume "${v.name}" must not be a hostPath`, `${pod.path}.volumes[${i}].hostPath`));
  },
  hostPorts(pod) {
    const out = [];
    for (const c of each(pod)) {
      (c.container.ports || []).forEach((p, i) => {
        if (p.hostPort !== undefined && p.hostPort !== null && p.hostPort !== 0) {
          out.push(violation("hostPorts", `${label(c)} must not use hostPort ${p.hostPort}`, `${c.path}.ports[${i}].hostPort`));
        }
      });
    }
    return out;
  },
  appArmorProfile(pod) {
    const out = [];
    const allowedType = (t) => t === undefined || t === null || t === "RuntimeDefault" || t === "Localhost";
    const podType = (podSc(pod).appArmorProfile || {}).type;
    if (!allowedType(podType)) out.push(violation("appArmorProfile", `pod AppArmor profile must not be ${podType}`, `${pod.path}.securityContext.appArmorProfile.type`));
    for (const c of each(pod)) {
      const type = (sc(c.container).appArmorProfile || {}).type;
      if (!allowedType(type)) out.push(violation("appArmorProfile", `${label(c)} AppArmor profile must not be ${type}`, `${c.path}.securityContext.appArmorProfile.type`));
    }
    const annotations = (pod.metadata || {}).annotations || {};
    const metadataPath = pod.path.replace(/spec$/, "metadata");
    for (const key of Object.keys(annotations)) {
      if (!key.startsWith(APPARMOR_ANNOTATION)) continue;
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
    for (const c of each(pod)) check(sc(c.container).seLinuxOptions, label(c), `${c.path}.securityContext.seLinuxOptions`);
    return out;
  },
  procMount(pod) {
    // Since Kubernetes 1.35 baseline allows an unmasked /proc in a user namespace (hostUsers: false).
    if (pod.spec.hostUsers === false) return [];
    return each(pod)
      .filter((c) => { const m = sc(c.container).procMount; return m !== undefined && m !== null && m !== "Default"; })
      .map((c) => violation("procMount", `${label(c)} must not use procMount ${sc(c.container).procMount} without a user namespace`, `${c.path}.securityContext.procMount`));
  },
  seccompProfile_baseline(pod) {
    const out = [];
    if ((podSc(pod).seccompProfile || {}).type === "Unconfined") out.push(violation("seccompProfile_baseline", "pod seccomp profile must not be Unconfined", `${pod.path}.securityContext.seccompProfile.type`));
    for (const c of each(pod)) {
      if ((sc(c.container).seccompProfile || {}).type === "Unconfined") {
        out.push(violation("seccompProfile_baseline", `${label(c)} seccomp profile must not be Unconfined`, `${c.path}.securityContext.seccompProfile.type`));
      }
    }
    return out;
  },
  sysctls(pod) {
    return (podSc(pod).sysctls || [])
      .map((s, i) => [s, i])
      .filter(([s]) => !SAFE_SYSCTLS.has(s.name))
      .map(([s, i]) => violation("sysctls", `sysctl ${JSON.stringify(s.name)} is not in the safe set`, `${pod.path}.securityContext.sysctls[${i}].name`));
  },
  windowsHostProcess(pod) {
    const out = [];
    if ((podSc(pod).windowsOptions || {}).hostProcess === true) out.push(violation("windowsHostProcess", "pod must not be a Windows HostProcess pod", `${pod.path}.securityContext.windowsOptions.hostProcess`));
    for (const c of each(pod)) {
      if ((sc(c.container).windowsOptions || {}).hostProcess === true) {
        out.push(violation("windowsHostProcess", `${label(c)} must not be a Windows HostProcess container`, `${c.path}.securityContext.windowsOptions.hostProcess`));
      }
    }
    return out;
  },
  hostProbesAndHostLifecycle(pod) {
    const out = [];
    const handler = (h, where, path) => {
      if (!h) return;
      for (const kind of ["httpGet", "tcpSocket"]) {
        if (h[kind] && h[kind].host !== undefined && h[kind].host !== null && h[kind].host !== "") {
          out.push(violation("hostProbesAndHostLifecycle", `${where} must not set ${kind}.host (${h[kind].host})`, `${path}.${kind}.host`));
        }
      }
    };
    for (const c of each(pod)) {
      for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) handler(c.container[probe], `${label(c)} ${probe}`, `${c.path}.${probe}`);
      const lifecycle = c.container.lifecycle || {};
      for (const hook of ["postStart", "preStop"]) handler(lifecycle[hook], `${label(c)} ${hook} hook`, `${c.path}.lifecycle.${hook}`);
    }
    return out;
  },
};

export const restrictedChecks = {
  restrictedVolumes(pod) {
    const out = [];
    (pod.spec.volumes || []).forEach((v, i) => {
      for (const key of Object.keys(v)) {
        if (key === "name" || RESTRICTED_VOLUME_TYPES.has(key) || v[key] === null || v[key] === undefined) continue;
        out.push(violation("restrictedVolumes", `volume "${v.name}" must not be of type ${key}`, `${pod.path}.volumes[${i}].${key}`));
      }
    });
    return out;
  },
  allowPrivilegeEscalation(pod) {
    if (isWindows(pod)) return [];
    return each(pod)
      .filter((c) => sc(c.container).allowPrivilegeEscalation !== false)
      .map((c) => violation("allowPrivilegeEscalation", `${label(c)} must set securityContext.allowPrivilegeEscalation to false`, `${c.path}.securityContext.allowPrivilegeEscalation`));
  },
  capabilities_restricted(pod) {
    if (isWindows(pod)) return [];
    const out = [];
    for (const c of each(pod)) {
      const caps = sc(c.container).capabilities || {};
      if (!(caps.drop || []).includes("ALL")) {
        out.push(violation("capabilities_restricted", `${label(c)} must drop ALL capabilities`, `${c.path}.securityContext.capabilities.drop`));
      }
      (caps.add || []).forEach((cap, i) => {
        // Capabilities outside the baseline set are reported by capabilities_baseline.
        if (cap !== "NET_BIND_SERVICE" && BASELINE_CAPABILITIES.has(cap)) {
          out.push(violation("capabilities_restricted", `${label(c)} may add only NET_BIND_SERVICE, not ${cap}`, `${c.path}.securityContext.capabilities.add[${i}]`));
        }
      });
    }
    return out;
  },
  runAsNonRoot(pod) {
    const out = [];
    const podValue = podSc(pod).runAsNonRoot;
    if (podValue === false) out.push(violation("runAsNonRoot", "pod must not set runAsNonRoot to false", `${pod.path}.securityContext.runAsNonRoot`));
    for (const c of each(pod)) {
      const value = sc(c.container).runAsNonRoot;
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
      if (sc(c.container).runAsUser === 0) out.push(violation("runAsUser", `${label(c)} must not run as user 0`, `${c.path}.securityContext.runAsUser`));
    }
    return out;
  },
  seccompProfile_restricted(pod) {
    if (isWindows(pod)) return [];
    const out = [];
    const allowed = (t) => t === "RuntimeDefault" || t === "Localhost";
    const podType = (podSc(pod).seccompProfile || {}).type;
    if (podType !== undefined && podType !== null && !allowed(podType)) {
      out.push(violation("seccompProfile_restricted", `pod seccomp profile must be RuntimeDefault or Localhost, not ${podType}`, `${pod.path}.securityContext.seccompProfile.type`));
    }
    for (const c of each(pod)) {
      const type = (sc(c.container).seccompProfile || {}).type;
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
    if (pod.spec.hostUsers !== false) return [];
    return each(pod)
      .filter((c) => { const m = sc(c.container).procMount; return m !== undefined && m !== null && m !== "Default"; })
      .map((c) => violation("procMount_restricted", `${label(c)} must use the Default procMount`, `${c.path}.securityContext.procMount`));
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
