/** Fixed ids and names of what the seed creates (deterministic, so reseeding is a no-op). */
export const SEED_USER = 'system';

export const REGION = { id: 'world', name: 'World' } as const;

export const LANGUAGE = {
  id: 'eng',
  name: 'English',
  iso6391: 'en',
  iso6393: 'eng',
  regionId: REGION.id,
} as const;

export const BIBLE_VERSION = {
  id: 'protestant',
  name: 'Protestant canon (66 books)',
  structureNotes:
    '66 books, 1,189 chapters; verse numbering of the World English Bible (verses it omits are absent).',
} as const;

export const TEXT_VERSION = {
  id: 'web',
  name: 'World English Bible',
  source: 'World English Bible (public domain), SWORD module engWEB2015eb',
} as const;

export const AUDIO_VERSION = {
  id: 'web-audio-john',
  name: 'World English Bible — Gospel of John (synthetic narration)',
  /** OSIS id of the narrated book. */
  book: 'John',
} as const;

export const NARRATION_TAG = { id: 'narration-synthetic', key: 'narration', value: 'synthetic' };

export const USERS = [
  { id: SEED_USER, displayName: 'System', role: 'admin' },
  { id: 'dev-admin', displayName: 'Dev Admin', role: 'admin' },
  { id: 'dev-editor', displayName: 'Dev Editor', role: 'editor' },
  { id: 'dev-user', displayName: 'Dev User', role: 'user' },
] as const;

export const verseTextId = (verseId: string): string => `${TEXT_VERSION.id}-${verseId}`;
export const mediaFileId = (chapterId: string): string => `${AUDIO_VERSION.id}-${chapterId}`;
export const timingId = (verseId: string): string => `${AUDIO_VERSION.id}-${verseId}`;
export const objectKey = (chapterId: string): string =>
  `media/${AUDIO_VERSION.id}/${chapterId}.mp3`;
