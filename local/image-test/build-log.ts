/**
 * Where a build's time went, from its log with each line stamped by exec.ts (`[  12.3] `): the classic builder's
 * `Step N/M : ...` lines, each lasting until the next one starts; BuildKit's `#N [stage k/m] ...` lines with the
 * `#N DONE 16.7s` that ends each (its stages run side by side, so those times overlap).
 */

export interface StepTime {
  step: string;
  seconds: number;
}

export function stepTimes(log: string, totalSeconds: number): StepTime[] {
  const classic: Array<{ at: number; step: string }> = [];
  const buildkitNames = new Map<string, string>();
  const buildkit: StepTime[] = [];
  for (const line of log.split('\n')) {
    const m = /^\[\s*([\d.]+)\] (.*)$/.exec(line);
    if (!m) continue;
    const [, at, text] = m;
    const step = /^Step \d+\/\d+ : (.*)$/.exec(text);
    if (step) classic.push({ at: Number(at), step: step[1].trim() });
    const named = /^#(\d+) (\[[^\]]+\] .*)$/.exec(text);
    if (named && !buildkitNames.has(named[1])) buildkitNames.set(named[1], named[2].trim());
    const done = /^#(\d+) DONE ([\d.]+)s$/.exec(text);
    if (done && buildkitNames.has(done[1])) buildkit.push({ step: buildkitNames.get(done[1])!, seconds: Number(done[2]) });
  }
  if (buildkit.length) return buildkit;
  return classic.map((s, i) => ({ step: s.step, seconds: (classic[i + 1]?.at ?? totalSeconds) - s.at }));
}

/** The `count` slowest steps as one line: `RUN npm ci ... 95.1s, ...` (each step cut to `width` characters). */
export function slowest(times: readonly StepTime[], count: number, width = 48): string {
  return [...times]
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count)
    .map((t) => `${t.step.length > width ? `${t.step.slice(0, width - 1)}…` : t.step} ${t.seconds.toFixed(1)}s`)
    .join(', ');
}
