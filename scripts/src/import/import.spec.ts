import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAudioFileName } from './audio-import';
import { lineOfPath } from './bible-json';
import { CANON, bookByOsis, bookByUsfm } from './books';
import { parseUsfm } from './usfm';

describe('parseUsfm', () => {
  it('reads chapters and verses, dropping notes, headings and attributes', () => {
    const book = parseUsfm(
      [
        '\\id JUD Test',
        '\\h Jude',
        '\\mt1 The Letter of Jude',
        '\\c 1',
        '\\s1 A heading',
        '\\p',
        '\\v 1 Jude,\\f + \\fr 1:1 \\ft a note\\f* a \\w servant|strong="G1401"\\w* of \\add Jesus\\add*',
        '\\q1 Christ.',
        '\\v 2-3 Mercy \\wj to you\\wj*.',
        '\\c 2',
        '\\p \\v 1 Second.',
      ].join('\n'),
      'jude.usfm',
    );
    assert.equal(book.osis, 'Jude');
    assert.equal(book.number, 65);
    assert.deepEqual(
      book.chapters.map((c) => c.verses.map((v) => [v.number, v.text, v.line])),
      [
        [
          [1, 'Jude, a servant of Jesus Christ.', 7],
          [2, 'Mercy to you.', 9],
        ],
        [[1, 'Second.', 11]],
      ],
    );
  });

  it('names the file and line of what it cannot read', () => {
    const cases: [string, RegExp][] = [
      ['\\c 1\n\\v 1 x', /x\.usfm:1: \\c before \\id/],
      ['\\id XYZ\n', /x\.usfm:1: unknown book code "XYZ"/],
      ['\\id JUD\n\\v 1 text', /x\.usfm:2: \\v before the first \\c/],
      ['\\id JUD\n\\c 1\n\\v 1 a\n\\v 1 b', /x\.usfm:4: verse 1:1 appears twice/],
      ['\\id JUD\n\\c 1\n\\p\n\\v 1 \\f + note', /x\.usfm:4: \\f is never closed/],
      ['\\id JUD\n\\c 1\n\\v 1\n\\v 2 b', /x\.usfm:3: verse 1:1 has no text/],
      ['\\id JUD\n\\c one', /x\.usfm:2: \\c needs a chapter number/],
    ];
    for (const [text, error] of cases) assert.throws(() => parseUsfm(text, 'x.usfm'), error, text);
  });
});

describe('lineOfPath', () => {
  const text =
    '{\n  "books": [\n    { "osis": "A",\n      "chapters": [\n        { "n": 1 },\n        { "n": 2 }\n      ] }\n  ]\n}';
  it('finds the line of a value by its path', () => {
    assert.equal(lineOfPath(text, ['books', 0, 'osis']), 3);
    assert.equal(lineOfPath(text, ['books', 0, 'chapters', 1, 'n']), 6);
    assert.equal(lineOfPath(text, ['books', 0, 'chapters', 5]), 4);
  });
});

describe('books and file names', () => {
  it('knows the 66 books by USFM code and OSIS id', () => {
    assert.equal(CANON.length, 66);
    assert.equal(bookByUsfm('3jn')?.osis, '3John');
    assert.equal(bookByOsis('phlm')?.number, 57);
  });

  it('reads book and chapter from audio file names', () => {
    assert.deepEqual(parseAudioFileName('Titus_001.mp3'), { book: 'Titus', chapter: 1 });
    assert.deepEqual(parseAudioFileName('56_Titus_03.m4a'), { book: 'Titus', chapter: 3 });
    assert.deepEqual(parseAudioFileName('1John-2.mp3'), { book: '1John', chapter: 2 });
    assert.deepEqual(parseAudioFileName('JHN003.mp3'), { book: 'JHN', chapter: 3 });
    assert.equal(parseAudioFileName('notes.txt'), null);
  });
});
