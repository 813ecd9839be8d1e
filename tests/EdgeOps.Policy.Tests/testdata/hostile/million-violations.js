// expect: EO6001 and 999900 more violations
export const policy = { name: "hostile", severity: "error" };
export function validate() { return new Array(1e6).fill("x"); }
