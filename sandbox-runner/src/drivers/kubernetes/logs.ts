/** Pod log reading: a follow stream that ends when the container terminates, and a one-shot read. */
import { PassThrough } from "node:stream";
import type { KubeClients } from "./client.js";

export interface LogFollow {
  /** Everything the container printed, once its log stream ends (container terminated or pod gone). */
  readonly text: Promise<string>;
  abort(): void;
}

/** Opens `GET pods/{name}/log?follow=true`; rejects with the ApiException if the API refuses. */
export async function followLog(clients: KubeClients, namespace: string, pod: string, container: string): Promise<LogFollow> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  const text = new Promise<string>((resolve) => {
    const done = () => resolve(Buffer.concat(chunks).toString("utf8"));
    sink.on("end", done);
    sink.on("close", done);
    sink.on("error", done);
  });
  const controller = await clients.log.log(namespace, pod, container, sink, { follow: true });
  return {
    text,
    abort: () => {
      controller.abort();
      sink.end();
    },
  };
}

/** Reads a (terminated) container's whole log. */
export async function readLog(clients: KubeClients, namespace: string, pod: string, container: string): Promise<string> {
  const body = await clients.core.readNamespacedPodLog({ name: pod, namespace, container });
  return typeof body === "string" ? body : String(body ?? "");
}
