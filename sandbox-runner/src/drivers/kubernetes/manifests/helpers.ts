/** The prober pod (test script and probes) and the per-job ZAP pod, with their ConfigMaps. */
import type { V1ConfigMap, V1Pod, V1PodSpec } from "@kubernetes/client-node";
import type { KubernetesConfig } from "../config.js";
import { labelsFor, type PodRole } from "../names.js";
import { ownedMeta, type OwnerJob } from "./owner.js";
import { compact, helperPodSecurity, restrictedContainer } from "./security.js";

export const PROBE_LINE = "VEXXY-PROBE";
export const ZAP_BEGIN = "VEXXY-ZAP-REPORT-BEGIN";
export const ZAP_END = "VEXXY-ZAP-REPORT-END";
const HELPER_UID = 65532;
const ZAP_UID = 1000; // the "zap" user of the zaproxy images

/** Forwards localhost:<port> to the target so the user's script sees it where the spec says. */
const PROBER_WRAPPER = String.raw`set -u
for p in $TARGET_PORTS; do
  socat "TCP-LISTEN:$p,fork,reuseaddr,bind=127.0.0.1" "TCP:$TARGET_HOST:$p" &
done
for p in $TARGET_PORTS; do
  i=0
  while ! nc -z 127.0.0.1 "$p" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
done
timeout "$SCRIPT_TIMEOUT" sh /vexxy/script/script.sh
`;

/** The built-in probe: HTTP GET / on each port, else a TCP connect. */
export const PROBE_SCRIPT = String.raw`for p in $TARGET_PORTS; do
  code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://$TARGET_HOST:$p/" 2>/dev/null)
  if [ -n "$code" ] && [ "$code" != "000" ]; then echo "${PROBE_LINE} $p 1 HTTP $code"
  elif nc -z -w 5 "$TARGET_HOST" "$p" 2>/dev/null; then echo "${PROBE_LINE} $p 1 TCP connect ok"
  else echo "${PROBE_LINE} $p 0 no answer"; fi
done
`;

const ZAP_COMMAND = String.raw`zap.sh -cmd -autorun /zap/plan/plan.yaml
rc=$?
echo "${ZAP_BEGIN} rc=$rc"
[ -f /zap/wrk/report.json ] && base64 /zap/wrk/report.json
echo "${ZAP_END}"
`;

export function buildScriptConfigMap(name: string, jobId: string, script: string, cfg: KubernetesConfig, owner: OwnerJob): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMeta(name, cfg.namespace, labelsFor(jobId, cfg.runnerId), owner),
    data: { "script.sh": script },
  };
}

function helperPod(
  name: string,
  jobId: string,
  role: PodRole,
  cfg: KubernetesConfig,
  owner: OwnerJob,
  spec: V1PodSpec,
): V1Pod {
  return compact({
    apiVersion: "v1",
    kind: "Pod",
    metadata: ownedMeta(name, cfg.namespace, labelsFor(jobId, cfg.runnerId, role), owner),
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 5,
      ...spec,
    },
  });
}

export interface ProberPodInput {
  name: string;
  jobId: string;
  configMap: string;
  targetHost: string;
  ports: number[];
  timeoutSeconds: number;
}

export function buildProberPod(input: ProberPodInput, cfg: KubernetesConfig, owner: OwnerJob): V1Pod {
  return helperPod(input.name, input.jobId, "prober", cfg, owner, {
    activeDeadlineSeconds: input.timeoutSeconds + 30,
    securityContext: {
      ...helperPodSecurity(HELPER_UID),
      sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
    },
    containers: [
      {
        name: "prober",
        image: cfg.images.prober,
        imagePullPolicy: "IfNotPresent",
        command: ["/bin/sh", "-c", PROBER_WRAPPER],
        env: [
          { name: "TARGET_HOST", value: input.targetHost },
          { name: "TARGET_PORTS", value: input.ports.join(" ") },
          { name: "SCRIPT_TIMEOUT", value: String(input.timeoutSeconds) },
        ],
        securityContext: restrictedContainer(true),
        resources: {
          requests: { cpu: "100m", memory: "64Mi" },
          limits: { cpu: cfg.resources.helperCpu, memory: cfg.resources.helperMemory, "ephemeral-storage": "256Mi" },
        },
        volumeMounts: [
          { name: "script", mountPath: "/vexxy/script", readOnly: true },
          { name: "tmp", mountPath: "/tmp" },
        ],
      },
    ],
    volumes: [
      { name: "script", configMap: { name: input.configMap } },
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    ],
  });
}

/** ZAP automation-framework plan; JSON is valid YAML, which the plan loader reads. */
export function zapPlan(targetHost: string, ports: number[], maxMinutes: number): string {
  const urls = ports.map((p) => `http://${targetHost}:${p}/`);
  return JSON.stringify(
    {
      env: {
        contexts: [{ name: "target", urls, includePaths: urls.map((u) => `${u.replace(/[.]/g, "\\.")}.*`) }],
        parameters: { failOnError: false, failOnWarning: false, progressToStdout: true },
      },
      jobs: [
        { type: "spider", parameters: { context: "target", maxDuration: Math.max(1, Math.floor(maxMinutes / 3)) } },
        { type: "passiveScan-wait", parameters: { maxDuration: Math.max(1, Math.floor(maxMinutes / 3)) } },
        { type: "report", parameters: { template: "traditional-json", reportDir: "/zap/wrk", reportFile: "report.json" } },
      ],
    },
    null,
    2,
  );
}

export function buildZapConfigMap(name: string, jobId: string, plan: string, cfg: KubernetesConfig, owner: OwnerJob): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMeta(name, cfg.namespace, labelsFor(jobId, cfg.runnerId), owner),
    data: { "plan.yaml": plan },
  };
}

export function buildZapPod(name: string, jobId: string, configMap: string, cfg: KubernetesConfig, owner: OwnerJob): V1Pod {
  return helperPod(name, jobId, "zap", cfg, owner, {
    activeDeadlineSeconds: cfg.zapTimeoutSeconds,
    securityContext: helperPodSecurity(ZAP_UID),
    containers: [
      {
        name: "zap",
        image: cfg.images.zap,
        imagePullPolicy: "IfNotPresent",
        command: ["/bin/sh", "-c", ZAP_COMMAND],
        env: [{ name: "HOME", value: "/home/zap" }],
        securityContext: restrictedContainer(true),
        resources: {
          requests: { cpu: "250m", memory: "1Gi" },
          limits: { cpu: cfg.resources.zapCpu, memory: cfg.resources.zapMemory, "ephemeral-storage": "1Gi" },
        },
        volumeMounts: [
          { name: "plan", mountPath: "/zap/plan", readOnly: true },
          { name: "wrk", mountPath: "/zap/wrk" },
          { name: "home", mountPath: "/home/zap" },
          { name: "tmp", mountPath: "/tmp" },
        ],
      },
    ],
    volumes: [
      { name: "plan", configMap: { name: configMap } },
      { name: "wrk", emptyDir: { sizeLimit: "256Mi" } },
      { name: "home", emptyDir: { sizeLimit: "512Mi" } },
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    ],
  });
}
