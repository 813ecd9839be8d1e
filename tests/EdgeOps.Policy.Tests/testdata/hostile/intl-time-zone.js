// expect: EO6001 UTC
export const policy = { name: "hostile", severity: "error" };
export function validate() { return Intl.DateTimeFormat().resolvedOptions().timeZone; }
