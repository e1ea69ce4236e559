/** Where a job's documents live in R2. Keys are scoped by organization, like every query. */
export const inputKey = (orgId: string, jobId: string, kind: "sbom" | "vulnerabilities") => `inputs/${orgId}/${jobId}/${kind}.json`;
export const resultsKey = (orgId: string, jobId: string) => `results/${orgId}/${jobId}.json`;

export async function putJson(bucket: R2Bucket, key: string, value: unknown): Promise<void> {
  await bucket.put(key, JSON.stringify(value), { httpMetadata: { contentType: "application/json" } });
}

export async function getJson<T>(bucket: R2Bucket, key: string): Promise<T | null> {
  const obj = await bucket.get(key);
  return obj ? ((await obj.json()) as T) : null;
}
