import type { EventType } from '@bible/common';

/** What the device shows and the ids the app acts on (FCM/APNs/Web Push data: strings only). */
export interface RenderedNotification {
  title: string;
  body: string;
  data: Record<string, string>;
  /** A newer notification with the same key replaces the older one on the device. */
  collapseKey: string;
}

type Vars = Record<string, string>;
type Template = { title: string; body: string };

/**
 * Title/body per event type and language. `{name}` is replaced by the event's value; a locale
 * falls back to its language (pt-BR → pt), then to en.
 */
export const TEMPLATES: Record<string, Record<EventType, Template>> = {
  en: {
    'package.ready': {
      title: 'Download ready',
      body: 'Your Bible package {packageLabel} is ready to download.',
    },
    'package.failed': {
      title: 'Download failed',
      body: 'We could not build {packageLabel}. Please try again later.',
    },
    'content.changed': {
      title: 'Bible updated',
      body: '{versionId} has {changeCount} new changes. Open the app to update.',
    },
    'sync.conflict': {
      title: 'Edit conflict',
      body: 'Your change to {recordId} conflicts with a newer version. Review it in the app.',
    },
  },
  es: {
    'package.ready': {
      title: 'Descarga lista',
      body: 'Tu paquete bíblico {packageLabel} está listo para descargar.',
    },
    'package.failed': {
      title: 'La descarga falló',
      body: 'No pudimos preparar {packageLabel}. Inténtalo de nuevo más tarde.',
    },
    'content.changed': {
      title: 'Biblia actualizada',
      body: '{versionId} tiene {changeCount} cambios nuevos. Abre la aplicación para actualizar.',
    },
    'sync.conflict': {
      title: 'Conflicto de edición',
      body: 'Tu cambio en {recordId} entra en conflicto con una versión más reciente. Revísalo en la aplicación.',
    },
  },
  fr: {
    'package.ready': {
      title: 'Téléchargement prêt',
      body: 'Votre paquet biblique {packageLabel} est prêt à être téléchargé.',
    },
    'package.failed': {
      title: 'Échec du téléchargement',
      body: 'Nous n’avons pas pu préparer {packageLabel}. Réessayez plus tard.',
    },
    'content.changed': {
      title: 'Bible mise à jour',
      body: '{versionId} a {changeCount} nouvelles modifications. Ouvrez l’application pour mettre à jour.',
    },
    'sync.conflict': {
      title: 'Conflit de modification',
      body: 'Votre modification de {recordId} est en conflit avec une version plus récente. Vérifiez-la dans l’application.',
    },
  },
};

/** The template language for a BCP 47 tag: exact, then the language subtag, then en. */
export function resolveLocale(locale: string | null | undefined): string {
  if (!locale) return 'en';
  const lower = locale.toLowerCase().replace('_', '-');
  if (TEMPLATES[lower]) return lower;
  const language = lower.split('-')[0];
  return TEMPLATES[language] ? language : 'en';
}

const fill = (text: string, vars: Vars) =>
  text.replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? '');

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/** Per event type, the data keys the app reads and the event field each is taken from. */
const DATA_FIELDS: Record<EventType, Record<string, string>> = {
  'package.ready': {
    packageId: 'packageId',
    packageKey: 'packageKey',
    cursor: 'contentRevision',
    part: 'part',
    partCount: 'partCount',
  },
  'package.failed': { packageKey: 'packageKey', jobId: 'jobId', errorCode: 'errorCode' },
  'content.changed': {
    versionId: 'versionId',
    scope: 'scope',
    cursor: 'fromRevision',
    toCursor: 'toRevision',
  },
  'sync.conflict': { conflictId: 'conflictId', table: 'table', recordId: 'recordId' },
};

/** Data keys the app reads, with the event type and id; absent values are left out. */
function payloadData(
  type: EventType,
  eventId: string,
  d: Record<string, unknown>,
): Record<string, string> {
  const data: Record<string, string> = { type, eventId };
  for (const [key, field] of Object.entries(DATA_FIELDS[type])) {
    const s = str(d[field]);
    if (s !== undefined) data[key] = s;
  }
  return data;
}

function collapseKey(type: EventType, eventId: string, d: Record<string, unknown>): string {
  switch (type) {
    case 'package.ready':
    case 'package.failed':
      return `package:${str(d.packageKey) ?? eventId}`;
    case 'content.changed':
      return `content:${str(d.versionId) ?? eventId}`;
    case 'sync.conflict':
      return `conflict:${str(d.conflictId) ?? eventId}`;
  }
}

/** Renders one event for one device locale. */
export function renderNotification(
  type: EventType,
  eventId: string,
  data: Record<string, unknown>,
  locale: string | null | undefined,
): RenderedNotification & { locale: string } {
  const lang = resolveLocale(locale);
  const template = TEMPLATES[lang][type];
  const part = typeof data.part === 'number' && typeof data.partCount === 'number';
  const vars: Vars = {
    packageLabel:
      (str(data.packageId) ?? str(data.packageKey) ?? '') +
      (part ? ` (${String(data.part)}/${String(data.partCount)})` : ''),
    versionId: str(data.versionId) ?? '',
    changeCount: str(data.changeCount) ?? '',
    recordId: str(data.recordId) ?? '',
  };
  return {
    locale: lang,
    title: fill(template.title, vars),
    body: fill(template.body, vars),
    data: payloadData(type, eventId, data),
    collapseKey: collapseKey(type, eventId, data),
  };
}
