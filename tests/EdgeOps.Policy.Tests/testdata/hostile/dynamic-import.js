// expect: EO6102 validate
export const policy = { name: "hostile", severity: "error" };
export function validate() { return import("x"); }
