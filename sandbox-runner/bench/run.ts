/**
 * Runs every benchmark of the sandbox runner, one after the other (`npm run bench -w sandbox-runner`).
 * Add a benchmark as its own file exporting a run function, and call it here.
 */
import { runEngineBench } from "./engine.js";

runEngineBench();
