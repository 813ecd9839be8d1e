// expect: EO6001 still reported
// Replacing Object.keys cannot break how this policy's own results are read.
Object.keys = () => 42;
export const policy = { name: "hostile", severity: "error" };
export function validate() { return "still reported"; }
