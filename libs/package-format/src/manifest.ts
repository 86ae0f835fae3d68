import { z } from 'zod';
import { PackageFormatError } from './errors';
import {
  FORMAT_VERSION,
  PackageType,
  isPartPackageType,
  packageTypeHasAudio,
  packageTypeHasText,
} from './header';

export const PACKAGE_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** `[A-Za-z0-9._-]{1,128}` and not `.`/`..`, so it is always usable as a file name. */
export const PackageIdSchema = z
  .string()
  .regex(PACKAGE_ID_PATTERN)
  .refine((s) => s !== '.' && s !== '..', { message: 'packageId must not be "." or ".."' });

export const Sha256HexSchema = z.string().regex(HEX_SHA256, 'lower-case hex SHA-256');

/** A bare file name: extraction writes it into a directory, so no separators or dot entries. */
export const AudioFileNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => !/[/\\\0]/.test(s) && s !== '.' && s !== '..', {
    message: 'fileName must be a bare file name',
  });

export const AudioFormatSchema = z.enum(['mp3', 'm4a']);
export const PackageTypeSchema = z.enum(PackageType);

const count = () => z.int().nonnegative();
const nonEmpty = () => z.string().min(1);

export const AudioFileEntrySchema = z.object({
  fileName: AudioFileNameSchema,
  mediaFileId: nonEmpty(),
  /** Relative to the start of the audio section. */
  offset: count(),
  size: count(),
  sha256: Sha256HexSchema,
  startVerseId: nonEmpty(),
  endVerseId: nonEmpty(),
  chapterId: nonEmpty().optional(),
  bookId: nonEmpty().optional(),
  duration: z.number().nonnegative(),
  format: AudioFormatSchema,
  bitrate: z.number().positive().optional(),
  sampleRate: z.number().positive().optional(),
  hasVerseTimings: z.boolean(),
  verseCount: count(),
});

export const BibleStructureSchema = z.object({
  totalBooks: count(),
  totalChapters: count(),
  totalVerses: count(),
  testament: z.enum(['OT', 'NT', 'both']),
});

export const SeriesInfoSchema = z
  .object({
    seriesId: nonEmpty(),
    seriesName: z.string(),
    partNumber: z.int().positive(),
    totalParts: z.int().positive(),
    chunkingStrategy: z.enum(['size', 'testament', 'book_group', 'custom']),
    contentRange: z.object({ startBook: nonEmpty(), endBook: nonEmpty() }),
    dependencies: z.array(PackageIdSchema),
    isComplete: z.boolean(),
  })
  .refine((s) => s.partNumber <= s.totalParts, {
    message: 'partNumber exceeds totalParts',
    path: ['partNumber'],
  });

/**
 * The spec requires `basePackageId` and `baseRevision`. The optional fields let a client apply
 * the delta offline and check it: the base's header contentSha256 and databaseHash (so every
 * byte taken from the base is vouched for by the delta's own signature), the id of the full
 * package the delta produces, and that package's complete audio index (files whose bytes are
 * not in the delta are copied from the base by sha256).
 */
export const DeltaInfoSchema = z.object({
  basePackageId: PackageIdSchema,
  baseRevision: nonEmpty(),
  baseContentSha256: Sha256HexSchema.optional(),
  baseDatabaseHash: Sha256HexSchema.optional(),
  /** packageRowsHash of the base: lets a base with the same rows but other bytes qualify. */
  baseRowsHash: Sha256HexSchema.optional(),
  targetPackageId: PackageIdSchema.optional(),
  targetAudioFileIndex: z.array(AudioFileEntrySchema).optional(),
});

/**
 * Field order here is the order the writer serialises in. Unknown fields are stripped on parse
 * (not rejected) so a v1 reader accepts manifests from newer writers that add fields.
 */
const ManifestObjectSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  packageId: PackageIdSchema,
  packageVersion: nonEmpty(),
  packageType: PackageTypeSchema,
  createdAt: z.iso.datetime(),
  createdBy: nonEmpty(),
  languageEntityId: nonEmpty(),
  bibleVersionId: nonEmpty(),
  audioVersionId: nonEmpty().optional(),
  textVersionId: nonEmpty().optional(),
  contentRevision: nonEmpty(),
  syncCursor: z.string(),
  estimatedSizeMB: z.number().nonnegative(),
  totalFiles: count(),
  audioFormat: AudioFormatSchema.optional(),
  includesVerseTimings: z.boolean(),
  includesTotalVerses: count(),
  includesBooks: z.array(nonEmpty()),
  minAppVersion: z.string(),
  conflictsWith: z.array(PackageIdSchema),
  supersedes: PackageIdSchema.optional(),
  audioFileIndex: z.array(AudioFileEntrySchema),
  databaseHash: Sha256HexSchema,
  audioDataHash: Sha256HexSchema.optional(),
  totalContentHash: Sha256HexSchema,
  bibleStructure: BibleStructureSchema,
  seriesInfo: SeriesInfoSchema.optional(),
  delta: DeltaInfoSchema.optional(),
});

type ManifestShape = z.infer<typeof ManifestObjectSchema>;

/** Rules that span several fields; they are part of MANIFEST_SCHEMA. */
function crossFieldIssues(m: ManifestShape): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  if (m.totalFiles !== m.audioFileIndex.length) {
    issues.push({ path: ['totalFiles'], message: 'totalFiles must equal audioFileIndex.length' });
  }
  if (!packageTypeHasAudio(m.packageType) && m.audioFileIndex.length > 0) {
    issues.push({ path: ['audioFileIndex'], message: 'text packages have no audio files' });
  }
  if (packageTypeHasAudio(m.packageType) && m.audioVersionId === undefined) {
    issues.push({ path: ['audioVersionId'], message: 'required for packages carrying audio' });
  }
  if (packageTypeHasText(m.packageType) && m.textVersionId === undefined) {
    issues.push({ path: ['textVersionId'], message: 'required for packages carrying text' });
  }
  if (isPartPackageType(m.packageType) && m.seriesInfo === undefined) {
    issues.push({ path: ['seriesInfo'], message: 'required for part packages (types 4-6)' });
  }
  return issues;
}

/** The manifest object without the cross-field rules, for composing (`.extend`, `.pick`). */
export const ManifestBaseSchema = ManifestObjectSchema;

export const ManifestSchema = ManifestObjectSchema.superRefine((m, ctx) => {
  for (const issue of crossFieldIssues(m)) ctx.addIssue({ code: 'custom', ...issue });
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type AudioFileEntry = z.infer<typeof AudioFileEntrySchema>;
export type SeriesInfo = z.infer<typeof SeriesInfoSchema>;
export type DeltaInfo = z.infer<typeof DeltaInfoSchema>;
export type BibleStructure = z.infer<typeof BibleStructureSchema>;
export type AudioFormat = z.infer<typeof AudioFormatSchema>;

/** Fields the writer computes; everything else is supplied by the caller. */
export type ComputedManifestField =
  | 'formatVersion'
  | 'estimatedSizeMB'
  | 'totalFiles'
  | 'audioFileIndex'
  | 'databaseHash'
  | 'audioDataHash'
  | 'totalContentHash';
export type ManifestInput = Omit<Manifest, ComputedManifestField>;
export type AudioFileEntryInput = Omit<AudioFileEntry, 'offset' | 'size' | 'sha256'>;

/** JSON Schema (draft 2020-12) of the manifest, e.g. for an OpenAPI document. */
export function manifestJsonSchema(): z.core.JSONSchema.BaseSchema {
  return z.toJSONSchema(ManifestSchema);
}

export function formatZodIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Parses manifest bytes: MANIFEST_INVALID_JSON, then MANIFEST_SCHEMA. */
export function parseManifest(bytes: Uint8Array): Manifest {
  let json: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    json = JSON.parse(text);
  } catch (err) {
    throw new PackageFormatError(
      'MANIFEST_INVALID_JSON',
      `manifest is not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const result = ManifestSchema.safeParse(json);
  if (!result.success) {
    throw new PackageFormatError('MANIFEST_SCHEMA', formatZodIssues(result.error));
  }
  return result.data;
}

/**
 * Canonical manifest bytes: compact JSON with keys in schema order (zod rebuilds every object in
 * shape order and drops undefined/unknown keys), so identical inputs give an identical package.
 * Throws INVALID_INPUT if the manifest does not satisfy the schema: a writer must never emit a
 * package its own reader rejects.
 */
export function serializeManifest(manifest: Manifest): Buffer {
  const result = ManifestSchema.safeParse(manifest);
  if (!result.success) {
    throw new PackageFormatError('INVALID_INPUT', `manifest: ${formatZodIssues(result.error)}`);
  }
  return Buffer.from(JSON.stringify(result.data), 'utf8');
}

/**
 * AUDIO_INDEX_INVALID unless the entries tile the audio section exactly: first at 0, each
 * starting where the previous ended, the last ending at audioLength.
 */
export function validateAudioIndex(entries: readonly AudioFileEntry[], audioLength: number): void {
  let expected = 0;
  entries.forEach((e, i) => {
    if (e.offset < expected) {
      throw new PackageFormatError(
        'AUDIO_INDEX_INVALID',
        `audioFileIndex[${i}] (${e.fileName}) at ${e.offset} overlaps the previous file ending at ${expected}`,
      );
    }
    if (e.offset > expected) {
      throw new PackageFormatError(
        'AUDIO_INDEX_INVALID',
        `gap of ${e.offset - expected} bytes before audioFileIndex[${i}] (${e.fileName})`,
      );
    }
    expected = e.offset + e.size;
    if (expected > audioLength) {
      throw new PackageFormatError(
        'AUDIO_INDEX_INVALID',
        `audioFileIndex[${i}] (${e.fileName}) ends at ${expected}, past audioLength ${audioLength}`,
      );
    }
  });
  if (expected !== audioLength) {
    throw new PackageFormatError(
      'AUDIO_INDEX_INVALID',
      `audio files cover ${expected} bytes but audioLength is ${audioLength} (gap at the end)`,
    );
  }
}
