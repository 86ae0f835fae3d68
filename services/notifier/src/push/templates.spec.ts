import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_TYPES } from '@bible/common';
import { TEMPLATES, renderNotification, resolveLocale } from './templates';

const ready = {
  packageId: 'WEB-en-text',
  packageKey: 'k1',
  type: 'text',
  part: 2,
  partCount: 3,
  contentRevision: '1234',
  requestIds: [],
  requestedBy: ['u1'],
};

describe('notification templates', () => {
  it('every language has every event type', () => {
    for (const lang of Object.keys(TEMPLATES))
      for (const type of EVENT_TYPES) assert.ok(TEMPLATES[lang][type], `${lang} ${type}`);
  });

  it('locale fallback: exact, language, then en', () => {
    assert.equal(resolveLocale('es'), 'es');
    assert.equal(resolveLocale('es-MX'), 'es');
    assert.equal(resolveLocale('fr_CA'), 'fr');
    assert.equal(resolveLocale('de-DE'), 'en');
    assert.equal(resolveLocale(null), 'en');
  });

  it('package.ready in Spanish, with the ids the app needs as strings', () => {
    const r = renderNotification('package.ready', 'e1', ready, 'es-AR');
    assert.equal(r.locale, 'es');
    assert.equal(r.title, 'Descarga lista');
    assert.match(r.body, /WEB-en-text \(2\/3\)/);
    assert.deepEqual(r.data, {
      type: 'package.ready',
      eventId: 'e1',
      packageId: 'WEB-en-text',
      packageKey: 'k1',
      cursor: '1234',
      part: '2',
      partCount: '3',
    });
    assert.equal(r.collapseKey, 'package:k1');
  });

  it('content.changed collapses per version and carries the cursor to pull from', () => {
    const r = renderNotification(
      'content.changed',
      'e2',
      { scope: 'text', versionId: 'ENGWEB', fromRevision: '10', toRevision: '20', changeCount: 5 },
      'xx',
    );
    assert.equal(r.title, 'Bible updated');
    assert.match(r.body, /ENGWEB has 5 new changes/);
    assert.equal(r.data.versionId, 'ENGWEB');
    assert.equal(r.data.cursor, '10');
    assert.equal(r.collapseKey, 'content:ENGWEB');
  });
});
