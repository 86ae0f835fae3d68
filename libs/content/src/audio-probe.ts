/*
 * Audio type sniffing and measurement shared by the gateway's ingest and the import CLI. The type
 * comes from the bytes (never from a file name or a Content-Type header); duration, bitrate and
 * sample rate come from music-metadata (ESM-only; Node 24 loads it with require).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseFile, parseStream } from 'music-metadata';
import type { AudioFormat } from '@bible/common';
import { AudioIntegrity, type IntegrityResult } from './audio-integrity';

/** Bytes the sniffer wants to see (fewer is fine for short inputs). */
export const SNIFF_BYTES = 4096;

export const AUDIO_MIME_TYPES: Record<AudioFormat, string> = {
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
};

/** Content types an upload may declare (checked against the sniffed type). */
export const DECLARABLE_TYPES: Record<string, AudioFormat | null> = {
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/mp4': 'm4a',
  'audio/m4a': 'm4a',
  'audio/x-m4a': 'm4a',
  'application/octet-stream': null,
};

const M4A_BRANDS = new Set([
  'M4A ',
  'M4B ',
  'mp41',
  'mp42',
  'isom',
  'iso2',
  'iso5',
  'iso6',
  'dash',
]);

/** An MPEG-1/2/2.5 Layer III frame header at `offset` (sync, valid version, bitrate, rate). */
function isMp3Frame(head: Buffer, offset: number): boolean {
  if (head.length < offset + 4) return false;
  const b1 = head[offset + 1];
  const b2 = head[offset + 2];
  return (
    head[offset] === 0xff &&
    (b1 & 0xe0) === 0xe0 &&
    (b1 & 0x18) !== 0x08 && // version: reserved
    (b1 & 0x06) === 0x02 && // layer III
    (b2 & 0xf0) !== 0xf0 && // bitrate index: bad
    (b2 & 0x0c) !== 0x0c // sample-rate index: reserved
  );
}

/**
 * The audio format the first bytes announce: an ID3v2 tag or a Layer III frame for mp3, an
 * ISO-BMFF `ftyp` box with an audio-capable brand for m4a; null for anything else.
 */
export function sniffAudioFormat(head: Buffer): AudioFormat | null {
  if (head.length >= 10 && head.toString('latin1', 0, 3) === 'ID3') {
    const [major, , flags] = [head[3], head[4], head[5]];
    const sizeBytes = head.subarray(6, 10);
    if (major < 2 || major > 4 || sizeBytes.some((b) => b > 0x7f)) return null;
    const size = (sizeBytes[0] << 21) | (sizeBytes[1] << 14) | (sizeBytes[2] << 7) | sizeBytes[3];
    const frameAt = 10 + size + (flags & 0x10 ? 10 : 0);
    // The first frame after the tag, when the head reaches that far (tags may be large).
    return frameAt + 4 > head.length || isMp3Frame(head, frameAt) ? 'mp3' : null;
  }
  if (isMp3Frame(head, 0)) return 'mp3';
  if (head.length >= 12 && head.toString('latin1', 4, 8) === 'ftyp') {
    return M4A_BRANDS.has(head.toString('latin1', 8, 12)) ? 'm4a' : null;
  }
  return null;
}

export interface AudioMeasurement {
  durationSeconds: number;
  /** Bits per second (rounded). */
  bitrate: number;
  sampleRate: number;
  codec: string;
}

/** Thrown when the bytes do not hold playable audio of the announced format. */
export class CorruptAudioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptAudioError';
  }
}

export interface ParsedFormat {
  container?: string;
  codec?: string;
  duration?: number;
  bitrate?: number;
  sampleRate?: number;
  hasVideo?: boolean;
}

/** Checks music-metadata's view of a file against its sniffed format and its size. */
export function checkMeasurement(
  format: AudioFormat,
  parsed: ParsedFormat,
  sizeBytes: number,
  integrity?: IntegrityResult,
): AudioMeasurement {
  if (integrity && !integrity.ok) {
    throw new CorruptAudioError(integrity.message ?? 'corrupt audio');
  }
  const { duration, sampleRate, codec = '' } = parsed;
  if (!duration || !Number.isFinite(duration) || duration <= 0 || !sampleRate) {
    throw new CorruptAudioError('no decodable audio frames (cannot determine the duration)');
  }
  if (parsed.hasVideo) throw new CorruptAudioError('the file contains video');
  if (format === 'mp3' && !/layer 3/i.test(codec)) {
    throw new CorruptAudioError(`not MPEG Layer III audio (${codec || 'unknown codec'})`);
  }
  if (format === 'm4a' && !/^(M4A|M4B|mp4|isom|iso|dash|mp42|mp41)/i.test(parsed.container ?? '')) {
    throw new CorruptAudioError(`not an MPEG-4 audio container (${parsed.container ?? 'unknown'})`);
  }
  const bitrate = Math.round(parsed.bitrate ?? (sizeBytes * 8) / duration);
  if (!Number.isFinite(bitrate) || bitrate <= 0) {
    throw new CorruptAudioError('cannot determine the bitrate');
  }
  // A header that promises far more audio than the bytes can hold: truncated or corrupt.
  if (format === 'mp3' && parsed.bitrate && sizeBytes < (duration * parsed.bitrate) / 8 / 2) {
    throw new CorruptAudioError(
      `truncated: ${sizeBytes} bytes cannot hold ${duration.toFixed(2)} s at ${parsed.bitrate} bit/s`,
    );
  }
  // The header's duration must match what the frames hold (a Xing header survives truncation).
  const frames = integrity?.frameSeconds;
  if (frames !== undefined && Math.abs(frames - duration) > Math.max(0.5, duration * 0.05)) {
    throw new CorruptAudioError(
      `the header says ${duration.toFixed(2)} s but the frames hold ${frames.toFixed(2)} s (truncated or corrupt)`,
    );
  }
  return { durationSeconds: duration, bitrate, sampleRate, codec };
}

const options = { duration: true, skipCovers: true, skipPostHeaders: true } as const;

/**
 * What music-metadata reads from a stream; check it with `checkMeasurement` once the stream has
 * ended (the parser may finish before the last byte, and the size matters for the check). The
 * caller must keep draining `stream` after this resolves.
 */
export async function parseAudioStream(
  stream: Readable,
  format: AudioFormat,
): Promise<ParsedFormat> {
  try {
    const { format: parsed } = await parseStream(
      stream,
      { mimeType: AUDIO_MIME_TYPES[format] },
      options,
    );
    return parsed;
  } catch (error) {
    throw new CorruptAudioError(`unreadable ${format}: ${(error as Error).message}`);
  }
}

/** Integrity of a file on disk (streamed through AudioIntegrity). */
export async function checkFileIntegrity(
  file: string,
  format: AudioFormat,
): Promise<IntegrityResult> {
  const integrity = new AudioIntegrity(format);
  for await (const chunk of createReadStream(file)) integrity.update(chunk as Buffer);
  return integrity.finish();
}

/** Measures an audio file on disk (metadata plus the structural integrity check). */
export async function measureAudioFile(
  file: string,
  format: AudioFormat,
  sizeBytes: number,
): Promise<AudioMeasurement> {
  const integrity = await checkFileIntegrity(file, format);
  let parsed: ParsedFormat;
  try {
    ({ format: parsed } = await parseFile(file, options));
  } catch (error) {
    throw new CorruptAudioError(`unreadable ${format}: ${(error as Error).message}`);
  }
  return checkMeasurement(format, parsed, sizeBytes, integrity);
}
