// expect: EO6102 Temporal is not defined
export const policy = { name: "hostile", severity: "error" };
export function validate() { return Temporal.Now.timeZoneId(); }
