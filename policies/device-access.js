// Device access: a pod that reaches host devices (a /dev hostPath, or a privileged container) runs
// only where the cluster declares the device, and preferably through a DeviceConfig broker.
//
// parameters: { devicePaths: { "/dev/video": "usb-camera", "/dev/ttyACM": "gnss" } }   path prefix -> device class
import { podSpecs, containers, POD_KINDS } from "edgeops";

export const policy = {
  name: "device-access",
  description: "Host device access only where the cluster declares the device, preferably through a DeviceConfig broker",
  severity: "error",
  controls: ["deviceDeclared", "privilegedDevice", "brokered"],
  match: { kinds: POD_KINDS },
};

function classFor(path, devicePaths) {
  let best = null;
  for (const prefix of Object.keys(devicePaths)) {
    if (path.startsWith(prefix) && (best === null || prefix.length > best.length)) best = prefix;
  }
  return best === null ? null : devicePaths[best];
}

export function validate(object, ctx) {
  const devices = ctx.cluster ? ctx.cluster.devices || {} : {};
  const declared = Object.keys(devices).filter((k) => devices[k] > 0);
  const brokered = ctx.workload !== null && ctx.workload.kind === "DeviceConfig";
  const violations = [];
  let touchesDevices = false;
  for (const pod of podSpecs(object)) {
    const volumes = pod.spec.volumes || [];
    for (let i = 0; i < volumes.length; i++) {
      const volume = volumes[i];
      const path = volume.hostPath && volume.hostPath.path;
      if (typeof path !== "string" || !(path === "/dev" || path.startsWith("/dev/"))) continue;
      touchesDevices = true;
      const deviceClass = classFor(path, ctx.params.devicePaths || {});
      if (deviceClass === null) {
        violations.push({ control: "deviceDeclared", path: `${pod.path}.volumes[${i}].hostPath.path`,
          message: `hostPath ${path} is a device no device class maps to (parameters.devicePaths)` });
      } else if (!declared.includes(deviceClass)) {
        violations.push({ control: "deviceDeclared", path: `${pod.path}.volumes[${i}].hostPath.path`,
          message: `hostPath ${path} needs device class ${deviceClass}, which this cluster does not declare` });
      }
    }
    for (const c of containers(pod.spec, pod.path)) {
      if ((c.container.securityContext || {}).privileged !== true) continue;
      touchesDevices = true;
      if (declared.length === 0) {
        violations.push({ control: "privilegedDevice", path: `${c.path}.securityContext.privileged`,
          message: `container "${c.container.name}" is privileged (all host devices) on a cluster that declares no devices` });
      }
    }
  }
  if (touchesDevices && !brokered) {
    violations.push({ control: "brokered", severity: "warning", path: podSpecs(object)[0].path,
      message: "reaches host devices directly; prefer a DeviceConfig broker, which Akri schedules next to the device" });
  }
  return violations;
}
