/** Messages on the Worker's own queues (not the runner contract, which is in ./contract.ts). */
import { z } from "zod";

export const DispatchMessageSchema = z.object({ job_id: z.string().uuid(), organization_id: z.string().uuid() });
export type DispatchMessage = z.infer<typeof DispatchMessageSchema>;

export const WebhookMessageSchema = z.object({
  event: z.enum(["analysis.completed", "analysis.failed", "analysis.cancelled"]),
  job_id: z.string().uuid(),
  organization_id: z.string().uuid(),
  status: z.string(),
  occurred_at: z.string(),
});
export type WebhookMessage = z.infer<typeof WebhookMessageSchema>;
