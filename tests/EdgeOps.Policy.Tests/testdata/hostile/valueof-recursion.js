// expect: EO6102 Maximum call stack size exceeded
export const policy = { name: "hostile", severity: "error" };
export function validate() { const o = {}; o.valueOf = () => o + 1; return String(o * 2); }
