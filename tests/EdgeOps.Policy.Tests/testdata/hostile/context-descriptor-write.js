// expect: EO6102 the policy context is read-only
export const policy = { name: "hostile", severity: "error" };
export function validate(object, ctx) {
  Object.getOwnPropertyDescriptor(ctx.cluster, "labels").value.tier = "far";
  return [];
}
