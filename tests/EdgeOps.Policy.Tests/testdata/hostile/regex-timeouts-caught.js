// expect: EO6103 past
// Catching each regex timeout must not stretch the call's time budget.
export const policy = { name: "hostile", severity: "error" };
export function validate() {
  for (;;) {
    try { /^(a+)+$/.test("a".repeat(40) + "!"); } catch (e) { /* keep going */ }
  }
}
