// expect: EO6102 Maximum call stack size exceeded
export const policy = { name: "hostile", severity: "error" };
export function validate() { const o = {}; o.toString = () => "" + o; return "" + o; }
