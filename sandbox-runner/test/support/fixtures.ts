/** The shared real-world fixtures: `../shared/fixtures` beside the repository (VEXXY_FIXTURES overrides). */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

const besideRepo = resolve(import.meta.dirname, "../../../../shared/fixtures");
export const FIXTURES = process.env.VEXXY_FIXTURES ?? (existsSync(besideRepo) ? besideRepo : "/work/shared/fixtures");
export const fixturePath = (p: string) => `${FIXTURES}/${p}`;
