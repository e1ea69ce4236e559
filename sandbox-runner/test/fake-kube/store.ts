/** Object storage with a global resourceVersion, an event history and live watchers. */
import { randomUUID } from "node:crypto";

export type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    generateName?: string;
  };
  spec?: any;
  status?: any;
  data?: Record<string, string>;
  [k: string]: unknown;
};

export type EventType = "ADDED" | "MODIFIED" | "DELETED";
export interface StoredEvent {
  rv: number;
  type: EventType;
  resource: string;
  namespace: string;
  object: Obj;
}

export interface Watcher {
  resource: string;
  namespace: string;
  matches: (labels: Record<string, string> | undefined) => boolean;
  send: (ev: StoredEvent) => void;
}

const clone = <T>(v: T): T => structuredClone(v);

export class Store {
  private rv = 1;
  private readonly objects = new Map<string, Obj>();
  readonly history: StoredEvent[] = [];
  readonly watchers = new Set<Watcher>();

  private key(resource: string, ns: string, name: string): string {
    return `${resource}|${ns}|${name}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  get(resource: string, ns: string, name: string): Obj | undefined {
    const o = this.objects.get(this.key(resource, ns, name));
    return o && clone(o);
  }

  list(resource: string, ns?: string): Obj[] {
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${resource}|`) && (ns === undefined || k.split("|")[1] === ns))
      .map(([, o]) => clone(o));
  }

  /** Every object of every resource, with its resource. */
  all(): { resource: string; object: Obj }[] {
    return [...this.objects.entries()].map(([k, o]) => ({ resource: k.split("|")[0]!, object: clone(o) }));
  }

  private emit(type: EventType, resource: string, ns: string, object: Obj): void {
    const ev: StoredEvent = { rv: this.rv, type, resource, namespace: ns, object: clone(object) };
    this.history.push(ev);
    for (const w of this.watchers) {
      if (w.resource === resource && w.namespace === ns && w.matches(object.metadata.labels)) w.send(ev);
    }
  }

  create(resource: string, ns: string, obj: Obj): Obj {
    const o = clone(obj);
    o.metadata.namespace = ns;
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    o.metadata.resourceVersion = String(++this.rv);
    this.objects.set(this.key(resource, ns, o.metadata.name), o);
    this.emit("ADDED", resource, ns, o);
    return clone(o);
  }

  update(resource: string, ns: string, name: string, mutate: (o: Obj) => void): Obj | undefined {
    const k = this.key(resource, ns, name);
    const o = this.objects.get(k);
    if (!o) return undefined;
    mutate(o);
    o.metadata.resourceVersion = String(++this.rv);
    this.emit("MODIFIED", resource, ns, o);
    return clone(o);
  }

  remove(resource: string, ns: string, name: string): Obj | undefined {
    const k = this.key(resource, ns, name);
    const o = this.objects.get(k);
    if (!o) return undefined;
    this.objects.delete(k);
    o.metadata.resourceVersion = String(++this.rv);
    this.emit("DELETED", resource, ns, o);
    return clone(o);
  }
}
