import type { ChunkingStrategy } from '@bible/packages';

export interface BookInfo {
  id: string;
  osis: string;
  testament: 'OT' | 'NT';
  /** Estimated bytes this book adds to a package (text + audio). */
  estimatedBytes: number;
}

export interface PartPlan {
  books: BookInfo[];
  startBook: string;
  endBook: string;
}

/** Canonical groups of the 66-book canon, by lower-case OSIS id of the first book of each group. */
const GROUP_STARTS = ['gen', 'josh', 'job', 'isa', 'hos', 'matt', 'acts', 'rom', 'heb', 'rev'];

function part(books: BookInfo[]): PartPlan {
  return { books, startBook: books[0].osis, endBook: books[books.length - 1].osis };
}

/**
 * Splits books (in canonical order) into the parts of a series. `size` packs whole books greedily
 * under the limit (a single book larger than the limit becomes its own part).
 */
export function planParts(
  books: BookInfo[],
  strategy: ChunkingStrategy,
  maxSizeMB?: number,
): PartPlan[] {
  if (books.length === 0) return [];
  const groups: BookInfo[][] = [];
  switch (strategy) {
    case 'testament':
      for (const t of ['OT', 'NT'] as const) {
        const g = books.filter((b) => b.testament === t);
        if (g.length > 0) groups.push(g);
      }
      break;
    case 'book_group': {
      let current: BookInfo[] = [];
      for (const book of books) {
        if (GROUP_STARTS.includes(book.id) && current.length > 0) {
          groups.push(current);
          current = [];
        }
        current.push(book);
      }
      if (current.length > 0) groups.push(current);
      break;
    }
    case 'size': {
      const limit = (maxSizeMB ?? 100) * 1024 * 1024;
      let current: BookInfo[] = [];
      let size = 0;
      for (const book of books) {
        if (current.length > 0 && size + book.estimatedBytes > limit) {
          groups.push(current);
          current = [];
          size = 0;
        }
        current.push(book);
        size += book.estimatedBytes;
      }
      if (current.length > 0) groups.push(current);
      break;
    }
  }
  return groups.map(part);
}
