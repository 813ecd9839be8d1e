// expect: EO6103 regular expression past its time limit
/^(a+)+$/.test("a".repeat(40) + "!");
export const policy = { name: "hostile", severity: "error" };
export function validate() { return []; }
