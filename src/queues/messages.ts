/** Messages on the Worker's own queues (not the runner contract, which is in ./contract.ts). */
import { z } from "zod";

export const DispatchMessageSchema = z.object({ job_id: z.string().uuid(), organization_id: z.string().uuid() });
export type DispatchMessage = z.infer<typeof DispatchMessageSchema>;

/** On the dispatch queue too: "run this organization's job recovery" (its ledger's timer; services/sweep.ts). */
export const RecoveryMessageSchema = z.object({ recover_organization: z.string().uuid() });
export type RecoveryMessage = z.infer<typeof RecoveryMessageSchema>;

export const WebhookMessageSchema = z.object({
  event: z.enum(["analysis.completed", "analysis.failed", "analysis.cancelled"]),
  job_id: z.string().uuid(),
  organization_id: z.string().uuid(),
  status: z.string(),
  occurred_at: z.string(),
});
export type WebhookMessage = z.infer<typeof WebhookMessageSchema>;
