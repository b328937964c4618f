/**
 * Reads Prometheus text exposition (what `/metrics` serves) for tests: one
 * parser for every test that checks a metric.
 *
 * @module
 */

/**
 * The value of the first sample of `name` whose labels include `labels`,
 * or `undefined` when the scrape has none.
 *
 * @example
 * ```ts
 * sampleOf('a_total{code="0",method="Get"} 3\n', "a_total", { code: "0" }); // 3
 * ```
 */
export function sampleOf(
  scrape: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of scrape.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? "").split(",");
    if (wanted.every((pair) => have.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

/** Like {@linkcode sampleOf}, with 0 for a sample that is absent. */
export function sample(
  scrape: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  return sampleOf(scrape, name, labels) ?? 0;
}

/** Fetches `url` (a `/metrics` endpoint) and returns its text. */
export async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  return await response.text();
}
