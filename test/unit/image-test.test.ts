/**
 * The image test's (local/image-test, `npm run test:image`) pure parts, without Docker.
 * The sources are the forms Debian 12 ships (deb822 debian.sources) and the classic sources.list.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { parseDeb822, parseOneLine, pickMirror, readAptSources } from '../../local/image-test/apt-sources.js';
import { slowest, stepTimes } from '../../local/image-test/build-log.js';

const DEBIAN_SOURCES = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.local/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.local/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

test('deb822: both stanzas, comments skipped, lists split', () => {
  const sources = parseDeb822(DEBIAN_SOURCES);
  assert.equal(sources.length, 2);
  assert.deepEqual(sources[0], {
    types: ['deb'],
    uris: ['http://mirror.local/debian'],
    suites: ['bookworm', 'bookworm-updates'],
    components: ['main'],
  });
});

test('deb822: Enabled: no turns a stanza off, field names are case-insensitive', () => {
  const sources = parseDeb822('types: deb\nuris: http://a/debian\nsuites: bookworm\ncomponents: main\nenabled: no\n');
  assert.deepEqual(sources, []);
});

test('one-line: bracketed options with spaces, deb-src and comments', () => {
  const sources = parseOneLine(
    '# deb http://old/debian bookworm main\ndeb-src http://src/debian bookworm main\ndeb [ arch=amd64 signed-by=/k.gpg ] http://b/debian/ bookworm main contrib # trailing\n',
  );
  assert.equal(sources.length, 2);
  assert.deepEqual(sources[1], { types: ['deb'], uris: ['http://b/debian/'], suites: ['bookworm'], components: ['main', 'contrib'] });
});

test('the mirror is the deb source of the suite with main, not security, not deb-src, slash trimmed', () => {
  const sources = [
    ...parseOneLine('deb-src http://src/debian bookworm main\ndeb http://sec/debian-security bookworm-security main\n'),
    ...parseOneLine('deb http://b/debian/ bookworm main\n'),
  ];
  assert.equal(pickMirror(sources, 'bookworm'), 'http://b/debian');
});

test('another release on the mirror serves too; a mirror+file source or no main does not', () => {
  assert.equal(pickMirror(parseOneLine('deb http://t/debian trixie main\n'), 'bookworm'), 'http://t/debian');
  assert.equal(pickMirror(parseOneLine('deb mirror+file:/etc/apt/mirrors.txt bookworm main\n'), 'bookworm'), undefined);
  assert.equal(pickMirror(parseOneLine('deb http://x/debian bookworm contrib\n'), 'bookworm'), undefined);
});

test('apt reads only .list and .sources in sources.list.d', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apt-sources-test.'));
  try {
    mkdirSync(join(dir, 'parts'));
    writeFileSync(join(dir, 'parts', 'debian.sources'), DEBIAN_SOURCES);
    writeFileSync(join(dir, 'parts', 'other.list.disabled'), 'deb http://disabled/debian bookworm main\n');
    const sources = readAptSources(join(dir, 'missing.list'), join(dir, 'parts'));
    assert.equal(sources.length, 2);
    assert.equal(pickMirror(sources, 'bookworm'), 'http://mirror.local/debian');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('build step times: classic steps last until the next, BuildKit steps by their DONE line', () => {
  const classic = '[   0.1] Step 1/3 : FROM x\n[   2.0] Step 2/3 : RUN npm ci\n[  40.0] Step 3/3 : CMD ["start"]\n';
  assert.deepEqual(stepTimes(classic, 41), [
    { step: 'FROM x', seconds: 1.9 },
    { step: 'RUN npm ci', seconds: 38 },
    { step: 'CMD ["start"]', seconds: 1 },
  ]);
  const buildkit = '[   1.0] #8 [build 4/8] RUN npm ci\n[   1.0] #9 [deps 4/4] RUN npm ci --omit=dev\n[  10.0] #9 DONE 9.0s\n[  22.0] #8 DONE 21.0s\n';
  assert.equal(slowest(stepTimes(buildkit, 30), 2), '[build 4/8] RUN npm ci 21.0s, [deps 4/4] RUN npm ci --omit=dev 9.0s');
});
