/**
 * The registry egress policy at submit (contract/src/egress.ts): a job may not make the runner pull
 * from a loopback, link-local (metadata), private or otherwise internal registry unless the operator
 * allowed it in RUNNER_ALLOWED_REGISTRIES. The Worker cannot resolve names, so this judges the
 * registry as written; the runner checks the addresses a pull really connects to.
 */
import { checkRegistryName, registryOfReference, type EgressDenial } from "@vexxy/contract";
import type { Config } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";

const WHY: Record<EgressDenial | "invalid", string> = {
  loopback: "a loopback address",
  unspecified: "an unspecified address",
  link_local: "a link-local address (cloud metadata lives there)",
  private: "a private network address",
  multicast: "a multicast address",
  reserved: "a reserved address",
  internal_name: "a name that only resolves inside a network (localhost, single-label, .local, .internal, ...)",
  invalid: "not a valid host[:port]",
};

export function checkRegistryEgress(imageRef: string, config: Pick<Config, "RUNNER_ALLOWED_REGISTRIES">): void {
  const registry = registryOfReference(imageRef);
  const verdict = checkRegistryName(registry, config.RUNNER_ALLOWED_REGISTRIES);
  if (verdict.ok) return;
  throw new ApiError("VALIDATION_ERROR", `image_ref names a registry this service does not pull from: ${registry} is ${WHY[verdict.reason]}`, {
    fields: [{ field: "image_ref", message: `registry ${registry} is not allowed (${verdict.reason})` }],
  });
}
