// expect: none
import { image } from "edgeops";
image.parse = () => ({ registry: "trusted.example.com", digest: "sha256:0" });
export const policy = { name: "hostile", severity: "error" };
export function validate() { return []; }
