// expect: none
Array.prototype.push = function () { return this.length; };
Array.prototype.some = function () { return false; };
Array.prototype.filter = function () { return []; };
export const policy = { name: "hostile", severity: "error" };
export function validate() { return []; }
