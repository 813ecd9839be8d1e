// expect: EO6103 ran past the statement limit
export const policy = { get name() { for (;;) {} }, severity: "error" };
export function validate() { return []; }
