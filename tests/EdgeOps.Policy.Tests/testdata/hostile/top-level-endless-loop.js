// expect: EO6103 its module body ran past the statement limit
for (;;) {}
export const policy = { name: "hostile", severity: "error" };
export function validate() { return []; }
