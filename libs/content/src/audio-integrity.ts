/*
 * Structural integrity of an audio stream, checked on the fly while it is uploaded: for mp3 the
 * chain of MPEG Layer III frames (each header says where the next begins) must run from the first
 * frame to the end (trailing ID3v1/APE/Lyrics tags allowed); for m4a the top-level ISO-BMFF boxes
 * must tile the file exactly, starting with ftyp and holding moov and mdat. A metadata parser
 * alone trusts headers (an mp3 Xing header states a duration whatever follows it); this catches
 * truncated files and corrupt bytes after a valid start.
 */
import type { AudioFormat } from '@bible/common';

const MPEG1_L3_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_L3_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const RATES: Record<number, number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};

export interface MpegFrame {
  length: number;
  samples: number;
  sampleRate: number;
}

/** A Layer III frame header's length and sample count; null when `h` is not one. */
export function mpegFrame(h: Buffer, at = 0): MpegFrame | null {
  if (h.length < at + 4 || h[at] !== 0xff || (h[at + 1] & 0xe0) !== 0xe0) return null;
  const version = (h[at + 1] >> 3) & 0x03;
  const layer = (h[at + 1] >> 1) & 0x03;
  const bitrateIndex = h[at + 2] >> 4;
  const rateIndex = (h[at + 2] >> 2) & 0x03;
  const padding = (h[at + 2] >> 1) & 0x01;
  if (
    version === 1 ||
    layer !== 1 ||
    bitrateIndex === 0 ||
    bitrateIndex === 15 ||
    rateIndex === 3
  ) {
    return null;
  }
  const mpeg1 = version === 3;
  const kbps = (mpeg1 ? MPEG1_L3_KBPS : MPEG2_L3_KBPS)[bitrateIndex];
  const sampleRate = RATES[version][rateIndex];
  const length = Math.floor(((mpeg1 ? 144 : 72) * kbps * 1000) / sampleRate) + padding;
  return { length, samples: mpeg1 ? 1152 : 576, sampleRate };
}

export interface IntegrityResult {
  ok: boolean;
  message?: string;
  /** mp3: the duration the frames hold. */
  frameSeconds?: number;
}

/** Feed it every byte in order (`update`), then `finish()`. Memory use is a few bytes. */
export class AudioIntegrity {
  private total = 0;
  /** Absolute offset of the next header. */
  private next = 0;
  /** Bytes of the header starting at `next` collected so far. */
  private pending = Buffer.alloc(0);
  private failure?: string;
  /** Trailing tags (mp3) or a box that runs to the end (m4a): nothing more to check. */
  private settled = false;
  private frames = 0;
  private samples = 0;
  private sampleRate = 0;
  private readonly boxes = new Set<string>();

  constructor(private readonly format: AudioFormat) {}

  private headerSize(): number {
    if (this.format === 'm4a')
      return this.pending.length >= 8 && this.pending.readUInt32BE(0) === 1 ? 16 : 8;
    return this.next === 0 ? 10 : 4;
  }

  update(chunk: Buffer): void {
    const chunkStart = this.total;
    this.total += chunk.length;
    while (!this.failure && !this.settled && this.next < this.total) {
      const from = Math.max(0, this.next + this.pending.length - chunkStart);
      const want = this.headerSize() - this.pending.length;
      const piece = chunk.subarray(from, from + want);
      this.pending = Buffer.concat([this.pending, piece]);
      if (this.pending.length < this.headerSize()) {
        if (from + piece.length >= chunk.length) return; // wait for the next chunk
        continue; // m4a: the header grew to 16 bytes
      }
      this.interpret(this.pending, false);
      this.pending = Buffer.alloc(0);
    }
  }

  private interpret(h: Buffer, atEnd: boolean): void {
    const at = this.next;
    if (this.format === 'm4a') {
      if (h.length < 8) {
        this.failure = `${h.length} stray bytes after the last box (at byte ${at})`;
        return;
      }
      let size = h.readUInt32BE(0);
      const type = h.toString('latin1', 4, 8);
      if (this.boxes.size === 0 && type !== 'ftyp') {
        this.failure = 'the file does not start with an ftyp box';
        return;
      }
      if (!/^[\x20-\x7e]{4}$/.test(type)) {
        this.failure = `no valid box at byte ${at} (corrupt data)`;
        return;
      }
      this.boxes.add(type);
      if (size === 0) {
        this.settled = true;
        return;
      }
      if (size === 1) {
        if (h.length < 16) {
          this.failure = `box ${type} at byte ${at} is cut off`;
          return;
        }
        size = Number(h.readBigUInt64BE(8));
      }
      if (size < 8) {
        this.failure = `box ${type} at byte ${at} has an invalid size ${size}`;
        return;
      }
      this.next += size;
      return;
    }
    if (at === 0 && h.length >= 10 && h.toString('latin1', 0, 3) === 'ID3') {
      const s = h.subarray(6, 10);
      this.next = 10 + ((s[0] << 21) | (s[1] << 14) | (s[2] << 7) | s[3]) + (h[5] & 0x10 ? 10 : 0);
      return;
    }
    const frame = mpegFrame(h);
    if (frame) {
      this.frames++;
      this.samples += frame.samples;
      this.sampleRate = frame.sampleRate;
      this.next += frame.length;
      return;
    }
    const tag = h.toString('latin1', 0, 4);
    if (this.frames > 0 && (tag.startsWith('TAG') || tag === 'APET' || tag === 'LYRI')) {
      this.settled = true;
      return;
    }
    if (atEnd && this.frames > 0 && h.length < 4) return; // a few stray bytes at the very end
    this.failure =
      this.frames === 0
        ? `no MPEG Layer III frame at byte ${at}`
        : `MPEG frame sync lost at byte ${at} (corrupt, or not one mp3 stream)`;
  }

  finish(): IntegrityResult {
    if (!this.failure && !this.settled) {
      if (this.pending.length > 0) this.interpret(this.pending, true);
      if (!this.failure && !this.settled && this.next > this.total) {
        if (this.format === 'm4a') {
          this.failure = `the last box ends at byte ${this.next} but the file has ${this.total} bytes (truncated)`;
        }
        // mp3: a cut-off last frame is tolerated; the duration check catches real truncation.
      }
    }
    if (
      !this.failure &&
      this.format === 'm4a' &&
      !(this.boxes.has('moov') && this.boxes.has('mdat'))
    ) {
      this.failure = 'the file has no moov or no mdat box';
    }
    if (!this.failure && this.format === 'mp3' && this.frames === 0) {
      this.failure = 'no MPEG Layer III frames';
    }
    if (this.failure) return { ok: false, message: this.failure };
    return {
      ok: true,
      ...(this.format === 'mp3' && { frameSeconds: this.samples / this.sampleRate }),
    };
  }
}
