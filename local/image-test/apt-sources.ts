/**
 * Which Debian mirror apt uses here, read from its sources (one-line `.list` files and deb822 `.sources` files), so
 * that debootstrap fetches from the same place: a machine that reaches only a local mirror or a proxy keeps working.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
}

/** `deb [opt=val ...] URI SUITE COMPONENT...`, one entry a line, `#` starts a comment (sources.list(5)). */
export function parseOneLine(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    // Options may hold spaces inside the brackets: `[ arch=amd64 signed-by=/k.gpg ]`.
    const words = line.replace(/\[[^\]]*\]/, ' ').split(/\s+/).filter(Boolean);
    const [type, uri, suite, ...components] = words;
    if (!type || !uri || !suite) continue;
    sources.push({ types: [type], uris: [uri], suites: [suite], components });
  }
  return sources;
}

/** Stanzas of `Field: value` lines separated by blank lines; `Enabled: no` turns one off (sources.list(5), DEB822). */
export function parseDeb822(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#') || !line.trim()) continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const m = /^([\w-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = m[1].toLowerCase();
      fields.set(last, m[2].trim());
    }
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const list = (key: string): string[] => (fields.get(key) ?? '').split(/\s+/).filter(Boolean);
    const source = { types: list('types'), uris: list('uris'), suites: list('suites'), components: list('components') };
    if (source.types.length && source.uris.length && source.suites.length) sources.push(source);
  }
  return sources;
}

/**
 * The mirror to debootstrap `suite` from: a binary (`deb`) source carrying `main`, on a scheme debootstrap fetches
 * (http, https, file), listing `suite` itself; failing that, one listing any release's main suite (no `-updates`,
 * `-security` tail), as a mirror of one Debian release has the others.
 */
export function pickMirror(sources: readonly AptSource[], suite: string): string | undefined {
  const usable = sources.filter((s) => s.types.includes('deb') && s.components.includes('main'));
  const uriOf = (s: AptSource): string | undefined => s.uris.find((u) => /^(https?|file):/.test(u));
  const exact = usable.find((s) => s.suites.includes(suite) && uriOf(s));
  const anyRelease = usable.find((s) => s.suites.some((x) => /^[a-z]+$/.test(x)) && uriOf(s));
  const chosen = exact ?? anyRelease;
  return chosen ? uriOf(chosen)!.replace(/\/+$/, '') : undefined;
}

/** The sources apt reads: `sourcelist` and the `.list`/`.sources` files of `sourceparts` (other names apt ignores). */
export function readAptSources(sourceList: string, sourceParts: string): AptSource[] {
  const sources: AptSource[] = [];
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const main = read(sourceList);
  if (main !== undefined) sources.push(...parseOneLine(main));
  let parts: string[] = [];
  try {
    parts = readdirSync(sourceParts).sort();
  } catch {
    // no sources.list.d: the main file is all there is
  }
  for (const name of parts) {
    const text = read(join(sourceParts, name));
    if (text === undefined) continue;
    if (name.endsWith('.list')) sources.push(...parseOneLine(text));
    else if (name.endsWith('.sources')) sources.push(...parseDeb822(text));
  }
  return sources;
}
