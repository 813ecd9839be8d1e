// expect: EO6102 ShadowRealm is not defined
export const policy = { name: "hostile", severity: "error" };
export function validate() { return new ShadowRealm().evaluate("1"); }
