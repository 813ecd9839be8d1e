// expect: none
// Silencing the Pod Security helpers for everyone: only this policy's own copy changes.
import { baselineChecks } from "edgeops/pss";
for (const key of Object.keys(baselineChecks)) baselineChecks[key] = () => [];
export const policy = { name: "hostile", severity: "error" };
export function validate() { return []; }
