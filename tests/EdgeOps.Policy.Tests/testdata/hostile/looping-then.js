// expect: EO6103 ran past the statement limit
export const policy = { name: "hostile", severity: "error" };
export function validate() { return { get then() { for (;;) {} } }; }
