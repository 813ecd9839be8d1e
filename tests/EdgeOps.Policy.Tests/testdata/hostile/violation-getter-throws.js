// expect: EO6102 validate threw Error: boom
export const policy = { name: "hostile", severity: "error" };
export function validate() { return [{ get message() { throw new Error("boom"); } }]; }
