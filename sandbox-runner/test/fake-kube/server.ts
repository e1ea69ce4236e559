/**
 * A fake Kubernetes API server for the subset the driver uses, written from the published API
 * behaviour: create/get/list/watch/delete of Jobs, Pods, Services, NetworkPolicies and ConfigMaps
 * (plus Kubescape's profile resources when enabled), pod logs with follow, label selectors,
 * resourceVersion-ordered watch streams, ownerReference cascade on delete, and Status failures
 * (400/403/404/409/410/422). Real HTTP on 127.0.0.1. There is no kubelet and no controller loop
 * of its own: tests move pods through their lifecycle with the control methods in ./control.ts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KUBESCAPE_RESOURCES, metadataCauses, RESOURCES, type ResourceInfo } from "./resources.js";
import { parseSelector } from "./selectors.js";
import { alreadyExists, ApiError, badRequest, forbidden, gone, internal, invalid, notFound } from "./status.js";
import { type Obj, Store, type StoredEvent } from "./store.js";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

/** One API request as RBAC sees it. */
export interface ApiCall {
  verb: Verb;
  group: string;
  resource: string;
  subresource?: string;
  namespace: string;
  name?: string;
}

interface Route {
  info: ResourceInfo;
  namespace: string;
  name?: string;
  subresource?: string;
}

export interface LogStream {
  namespace: string;
  pod: string;
  container: string;
  write(text: string): void;
  end(): void;
}

export class FakeKubeServer {
  readonly store = new Store();
  readonly calls: ApiCall[] = [];
  private server: Server | undefined;
  private readonly resources: ResourceInfo[] = [...RESOURCES];
  private readonly logs = new Map<string, string>();
  readonly logStreams = new Set<LogStream>();
  private readonly openWatches = new Set<ServerResponse>();
  private readonly injected: { verb?: Verb; resource?: string; code: number; times: number }[] = [];
  /** Hooks the control layer installs: creation side effects (Job controller) and graceful pod deletion. */
  onCreated: (resource: string, obj: Obj) => void = () => undefined;
  onDeletePod: (obj: Obj, graceSeconds: number | undefined) => void = () => undefined;
  url = "";
  kubeconfigPath = "";

  enableKubescape(): void {
    for (const r of KUBESCAPE_RESOURCES) if (!this.resources.includes(r)) this.resources.push(r);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => this.fail(res, err instanceof ApiError ? err : internal(String(err))));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), "fake-kube-"));
    this.kubeconfigPath = join(dir, "kubeconfig");
    writeFileSync(
      this.kubeconfigPath,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        // client-node refuses plain HTTP unless TLS verification is explicitly off.
        clusters: [{ name: "fake", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
        users: [{ name: "runner", user: { token: "fake-token" } }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "runner" } }],
        "current-context": "fake",
      }),
    );
  }

  async stop(): Promise<void> {
    this.closeWatches();
    for (const s of this.logStreams) s.end();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Ends every open watch stream normally, as an API server does at its watch timeout. */
  closeWatches(): void {
    for (const res of this.openWatches) res.end();
    this.openWatches.clear();
    this.store.watchers.clear();
  }

  /** The next `times` requests matching verb/resource answer with a Status of this code. */
  failNext(match: { verb?: Verb; resource?: string }, code: number, times = 1): void {
    this.injected.push({ ...match, code, times });
  }

  // ---- logs -------------------------------------------------------------------------------------

  private logKey(ns: string, pod: string, container: string): string {
    return `${ns}/${pod}/${container}`;
  }

  appendLog(ns: string, pod: string, container: string, text: string): void {
    const k = this.logKey(ns, pod, container);
    this.logs.set(k, (this.logs.get(k) ?? "") + text);
    for (const s of this.logStreams) if (s.namespace === ns && s.pod === pod && s.container === container) s.write(text);
  }

  endLogStreams(ns: string, pod: string, container?: string): void {
    for (const s of [...this.logStreams]) {
      if (s.namespace === ns && s.pod === pod && (container === undefined || s.container === container)) s.end();
    }
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  private route(url: URL): Route | undefined {
    const parts = url.pathname.split("/").filter(Boolean);
    let group = "";
    let version: string | undefined;
    let rest: string[];
    if (parts[0] === "api") {
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === "apis") {
      group = parts[1] ?? "";
      version = parts[2];
      rest = parts.slice(3);
    } else return undefined;
    if (rest[0] !== "namespaces" || !rest[1] || !rest[2]) return undefined;
    const info = this.resources.find((r) => r.group === group && r.version === version && r.resource === rest[2]);
    if (!info) return undefined;
    return { info, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }

  private verbOf(method: string, route: Route, url: URL): Verb {
    if (method === "GET") return route.name ? "get" : url.searchParams.get("watch") === "true" ? "watch" : "list";
    if (method === "POST") return "create";
    if (method === "PUT") return "update";
    if (method === "PATCH") return "patch";
    return route.name ? "delete" : "deletecollection";
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const route = this.route(url);
    if (!route) throw notFound("", "the server could not find the requested resource", url.pathname);
    const verb = this.verbOf(req.method ?? "GET", route, url);
    const { info, namespace, name, subresource } = route;
    this.calls.push({ verb, group: info.group, resource: info.resource, subresource, namespace, name });
    const inj = this.injected.find((i) => (!i.verb || i.verb === verb) && (!i.resource || i.resource === info.resource));
    if (inj) {
      if (--inj.times <= 0) this.injected.splice(this.injected.indexOf(inj), 1);
      if (inj.code === 403) throw forbidden(verb, info.resource, namespace);
      throw new ApiError({ ...internal("injected failure").body, code: inj.code, reason: inj.code === 422 ? "Invalid" : "InternalError" });
    }
    const body = await readBody(req);
    let matches: ReturnType<typeof parseSelector>;
    try {
      matches = parseSelector(url.searchParams.get("labelSelector"));
    } catch (err) {
      throw badRequest(String((err as Error).message));
    }
    if (subresource === "log" && verb === "get" && info.resource === "pods") return this.serveLog(res, namespace, name!, url);
    if (subresource) throw notFound(info.group, `${info.resource}/${subresource}`, name ?? "");
    switch (verb) {
      case "create":
        return this.json(res, 201, this.create(info, namespace, body));
      case "get": {
        const obj = this.store.get(info.resource, namespace, name!);
        if (!obj) throw notFound(info.group, info.resource, name!);
        return this.json(res, 200, obj);
      }
      case "list":
        return this.json(res, 200, {
          apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
          kind: `${info.kind}List`,
          metadata: { resourceVersion: this.store.resourceVersion },
          items: this.store.list(info.resource, namespace).filter((o) => matches(o.metadata.labels)),
        });
      case "watch":
        return this.watch(res, info, namespace, matches, url.searchParams.get("resourceVersion"));
      case "delete": {
        const propagation =
          url.searchParams.get("propagationPolicy") ?? (body as { propagationPolicy?: string } | undefined)?.propagationPolicy ?? info.defaultPropagation;
        const graceParam = url.searchParams.get("gracePeriodSeconds");
        const removed = this.delete(info, namespace, name!, propagation, graceParam === null ? undefined : Number(graceParam));
        return this.json(res, 200, removed);
      }
      default:
        throw new ApiError({ ...badRequest(`verb ${verb} is not served by the fake`).body, code: 405, reason: "MethodNotAllowed" });
    }
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private fail(res: ServerResponse, err: ApiError): void {
    if (res.headersSent) return void res.end();
    this.json(res, err.body.code, err.body);
  }

  private create(info: ResourceInfo, namespace: string, body: unknown): Obj {
    const obj = body as Obj;
    if (!obj || typeof obj !== "object" || !obj.metadata) throw badRequest("the request body is not an object with metadata");
    if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    const causes = metadataCauses(info.kind, obj.metadata);
    try {
      info.validate?.(obj);
    } catch (err) {
      causes.push({ field: "", message: (err as Error).message });
    }
    if (causes.length) throw invalid(info.kind, obj.metadata.name ?? "", causes);
    if (this.store.get(info.resource, namespace, obj.metadata.name)) throw alreadyExists(info.group, info.resource, obj.metadata.name);
    const initial: Obj = { ...obj, apiVersion: info.group ? `${info.group}/${info.version}` : info.version, kind: info.kind };
    if (info.resource === "services") {
      initial.spec = { ...initial.spec, clusterIP: `10.96.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}` };
    }
    if (info.resource === "pods") initial.status = { phase: "Pending" };
    if (info.resource === "jobs") initial.status = {};
    const created = this.store.create(info.resource, namespace, initial);
    this.onCreated(info.resource, created);
    return this.store.get(info.resource, namespace, created.metadata.name) ?? created;
  }

  /** Deletes an object, cascading to dependents (Background/Foreground) or orphaning them. */
  delete(info: ResourceInfo, namespace: string, name: string, propagation: string, graceSeconds?: number): Obj {
    const obj = this.store.get(info.resource, namespace, name);
    if (!obj) throw notFound(info.group, info.resource, name);
    if (info.resource === "pods") this.onDeletePod(obj, graceSeconds);
    const removed = this.store.remove(info.resource, namespace, name) ?? obj;
    const uid = removed.metadata.uid;
    for (const dep of this.store.all()) {
      const refs = dep.object.metadata.ownerReferences ?? [];
      if (dep.object.metadata.namespace !== namespace || !refs.some((r) => r.uid === uid)) continue;
      const depInfo = this.resources.find((r) => r.resource === dep.resource)!;
      if (propagation === "Orphan") {
        this.store.update(dep.resource, namespace, dep.object.metadata.name, (o) => {
          o.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
        });
      } else {
        this.delete(depInfo, namespace, dep.object.metadata.name, "Background");
      }
    }
    return removed;
  }

  private watch(
    res: ServerResponse,
    info: ResourceInfo,
    namespace: string,
    matches: (l: Record<string, string> | undefined) => boolean,
    rvParam: string | null,
  ): void {
    const since = rvParam && rvParam !== "0" ? Number(rvParam) : undefined;
    const oldest = this.store.history[0]?.rv ?? 0;
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    const send = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    if (since !== undefined && since < oldest - 1) {
      send("ERROR", gone(`too old resource version: ${since} (${oldest})`).body);
      return void res.end();
    }
    if (since === undefined) {
      for (const o of this.store.list(info.resource, namespace)) if (matches(o.metadata.labels)) send("ADDED", o);
    } else {
      for (const ev of this.store.history) {
        if (ev.rv > since && ev.resource === info.resource && ev.namespace === namespace && matches(ev.object.metadata.labels)) {
          send(ev.type, ev.object);
        }
      }
    }
    const watcher = { resource: info.resource, namespace, matches, send: (ev: StoredEvent) => send(ev.type, ev.object) };
    this.store.watchers.add(watcher);
    this.openWatches.add(res);
    res.on("close", () => {
      this.store.watchers.delete(watcher);
      this.openWatches.delete(res);
    });
  }

  private serveLog(res: ServerResponse, namespace: string, name: string, url: URL): void {
    const pod = this.store.get("pods", namespace, name);
    if (!pod) throw notFound("", "pods", name);
    const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c: { name: string }) => c.name);
    const container = url.searchParams.get("container") ?? (names.length === 1 ? names[0] : undefined);
    if (!container) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]`);
    if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const st = statuses.find((s: { name: string }) => s.name === container);
    if (!st || (!st.state?.running && !st.state?.terminated)) {
      throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.flushHeaders();
    res.write(this.logs.get(this.logKey(namespace, name, container)) ?? "");
    if (url.searchParams.get("follow") !== "true" || st.state?.terminated) return void res.end();
    const stream: LogStream = {
      namespace,
      pod: name,
      container,
      write: (t) => res.write(t),
      end: () => {
        this.logStreams.delete(stream);
        res.end();
      },
    };
    this.logStreams.add(stream);
    res.on("close", () => this.logStreams.delete(stream));
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (!chunks.length) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("the request body is not JSON");
  }
}

export { ApiError };
