// expect: EO6102 Maximum call stack size exceeded
export const policy = { name: "hostile", severity: "error" };
export function validate() { const p = new Proxy({}, { get: (t, k, r) => r[k] }); return p.x; }
