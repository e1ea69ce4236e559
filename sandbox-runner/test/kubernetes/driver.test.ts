/**
 * The Kubernetes driver against the fake API server (real HTTP on 127.0.0.1, a kubeconfig pointing
 * at it). Scenario files register their tests in this order; the RBAC check runs last and proves
 * the Role in deploy/kubernetes grants every call they made and nothing they did not.
 */
import "./scenarios/lifecycle.js";
import "./scenarios/failures.js";
import "./scenarios/restart.js";
import "./scenarios/kubescape.js";
import "./scenarios/rbac.js";
