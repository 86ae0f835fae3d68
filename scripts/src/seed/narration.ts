/*
 * Synthetic "narration": one MP3 per chapter, one tone per verse (the pitch steps through a
 * pentatonic scale and each verse ends in a short pause, so verse boundaries are audible). Verse
 * lengths follow the text (0.06 s per character, at least 2 s). PCM is generated here and encoded
 * by ffmpeg (libmp3lame, mono 22.05 kHz 32 kbps); results are cached by a key over everything
 * that shapes the bytes, and what is recorded (size, duration, sha256) is measured from the file.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFile } from 'music-metadata';
import { once } from 'node:events';

const GENERATOR_VERSION = 1;
export const SAMPLE_RATE = 22_050;
const BITRATE_KBPS = 32;
const SECONDS_PER_CHAR = 0.06;
const MIN_VERSE_SECONDS = 2;
const PAUSE_SECONDS = 0.3;
const FADE_SECONDS = 0.02;
const SCALE = [1, 9 / 8, 5 / 4, 3 / 2, 5 / 3, 2];
const BASE_HZ = 196;

export interface NarrationVerse {
  id: string;
  text: string;
}

export interface VerseTiming {
  verseId: string;
  startTimeSeconds: number;
  durationSeconds: number;
}

export interface NarratedChapter {
  file: string;
  size: number;
  sha256: string;
  durationSeconds: number;
  bitrate: number;
  sampleRate: number;
  timings: VerseTiming[];
  fromCache: boolean;
}

interface Measured {
  key: string;
  size: number;
  sha256: string;
  durationSeconds: number;
  bitrate: number;
  sampleRate: number;
}

/** Samples per verse: 0.06 s per character, at least 2 s. */
export function verseSampleCounts(verses: NarrationVerse[]): number[] {
  return verses.map((v) =>
    Math.round(Math.max(MIN_VERSE_SECONDS, v.text.length * SECONDS_PER_CHAR) * SAMPLE_RATE),
  );
}

/**
 * Contiguous verse timings in whole milliseconds: each verse starts where the previous ends and
 * the last ends no later than the generated PCM (the MP3 is at least that long).
 */
export function verseTimings(verses: NarrationVerse[], samples: number[]): VerseTiming[] {
  const boundariesMs = [0];
  let total = 0;
  for (const n of samples) {
    total += n;
    boundariesMs.push(Math.round((total * 1000) / SAMPLE_RATE));
  }
  boundariesMs[boundariesMs.length - 1] = Math.floor((total * 1000) / SAMPLE_RATE);
  return verses.map((v, i) => ({
    verseId: v.id,
    startTimeSeconds: boundariesMs[i] / 1000,
    durationSeconds: (boundariesMs[i + 1] - boundariesMs[i]) / 1000,
  }));
}

function verseTone(samples: number, index: number): Buffer {
  const pcm = new Int16Array(samples); // little-endian on every platform Node runs on here
  const hz = BASE_HZ * SCALE[index % SCALE.length];
  const toneSamples = Math.max(0, samples - Math.round(PAUSE_SECONDS * SAMPLE_RATE));
  const fade = Math.round(FADE_SECONDS * SAMPLE_RATE);
  for (let i = 0; i < toneSamples; i++) {
    const t = i / SAMPLE_RATE;
    const envelope = Math.min(1, i / fade, (toneSamples - i) / fade);
    // A slow swell (~4 per second) so it reads as phrases rather than a flat beep.
    const swell = 0.6 + 0.4 * Math.sin(2 * Math.PI * 4 * t);
    pcm[i] = Math.round(9_000 * envelope * swell * Math.sin(2 * Math.PI * hz * t));
  }
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

async function encode(samples: number[], title: string, target: string): Promise<void> {
  const ffmpeg = spawn(
    'ffmpeg',
    [
      ['-hide_banner', '-loglevel', 'error', '-nostdin'],
      ['-f', 's16le', '-ar', String(SAMPLE_RATE), '-ac', '1', '-i', 'pipe:0'],
      ['-c:a', 'libmp3lame', '-b:a', `${BITRATE_KBPS}k`, '-ar', String(SAMPLE_RATE), '-ac', '1'],
      // Reproducible bytes: no encoder version strings or input metadata.
      ['-fflags', '+bitexact', '-flags:a', '+bitexact', '-map_metadata', '-1'],
      ['-metadata', `title=${title}`, '-f', 'mp3', '-y', target],
    ].flat(),
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    ffmpeg.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(
              'ffmpeg not found: install it (apt-get install ffmpeg) to generate seed audio',
            )
          : error,
      ),
    );
    ffmpeg.on('close', (code) => resolve(code ?? 1));
  });
  try {
    for (const [i, n] of samples.entries()) {
      if (!ffmpeg.stdin.write(verseTone(n, i))) {
        await Promise.race([once(ffmpeg.stdin, 'drain'), exited]);
      }
    }
    ffmpeg.stdin.end();
  } catch {
    // ffmpeg died mid-stream; its exit status and stderr explain why.
  }
  const code = await exited;
  if (code !== 0) throw new Error(`ffmpeg failed (exit ${code}) for ${target}: ${stderr.trim()}`);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function measure(file: string, key: string): Promise<Measured> {
  const { format } = await parseFile(file, { duration: true });
  if (!format.duration || !format.sampleRate || !format.bitrate) {
    throw new Error(`cannot read duration/sample rate/bitrate of ${file}`);
  }
  return {
    key,
    size: (await stat(file)).size,
    sha256: await sha256File(file),
    durationSeconds: format.duration,
    bitrate: Math.round(format.bitrate),
    sampleRate: format.sampleRate,
  };
}

/** The cached measurement if the file is still exactly what was measured. */
async function cached(file: string, sidecar: string, key: string): Promise<Measured | undefined> {
  try {
    const meta = JSON.parse(await readFile(sidecar, 'utf8')) as Measured;
    if (meta.key !== key || (await stat(file)).size !== meta.size) return undefined;
    return (await sha256File(file)) === meta.sha256 ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** Generates (or reuses from `cacheDir`) the MP3 for one chapter and its verse timings. */
export async function narrateChapter(
  cacheDir: string,
  name: string,
  title: string,
  verses: NarrationVerse[],
): Promise<NarratedChapter> {
  const samples = verseSampleCounts(verses);
  const key = createHash('sha256')
    .update(JSON.stringify({ GENERATOR_VERSION, SAMPLE_RATE, BITRATE_KBPS, title, samples }))
    .digest('hex');
  const file = join(cacheDir, `${name}.mp3`);
  const sidecar = join(cacheDir, `${name}.json`);
  await mkdir(cacheDir, { recursive: true });

  let meta = await cached(file, sidecar, key);
  const fromCache = meta !== undefined;
  if (!meta) {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await encode(samples, title, tmp);
      meta = await measure(tmp, key);
      await rename(tmp, file);
      await writeFile(sidecar, JSON.stringify(meta, null, 2));
    } finally {
      await rm(tmp, { force: true });
    }
  }

  const timings = verseTimings(verses, samples);
  const last = timings[timings.length - 1];
  if (last.startTimeSeconds + last.durationSeconds > meta.durationSeconds) {
    throw new Error(
      `${name}: verse timings end after the encoded audio (${meta.durationSeconds} s)`,
    );
  }
  return { file, ...meta, timings, fromCache };
}
