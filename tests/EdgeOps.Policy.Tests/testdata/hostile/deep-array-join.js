// expect: EO6102 Maximum call stack size exceeded
export const policy = { name: "hostile", severity: "error" };
export function validate() { let a = []; for (let i = 0; i < 100000; i++) a = [a]; return a.join(","); }
