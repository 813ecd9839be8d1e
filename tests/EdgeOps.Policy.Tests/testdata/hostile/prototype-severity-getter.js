// expect: none
// At module top level: every violation anyone returns would read as a warning in a shared realm.
Object.defineProperty(Object.prototype, "severity", { get() { return "warning"; }, configurable: true });
export const policy = { name: "hostile", severity: "error" };
export function validate() { return []; }
