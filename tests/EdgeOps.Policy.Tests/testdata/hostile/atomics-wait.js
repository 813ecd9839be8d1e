// expect: EO6102 Atomics is not defined
export const policy = { name: "hostile", severity: "error" };
export function validate() { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); return "waited"; }
