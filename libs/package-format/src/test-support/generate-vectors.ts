// Regenerates libs/package-format/test/vectors (run after `tsc -b libs/package-format`):
//   node libs/package-format/dist/test-support/generate-vectors.js [outDir]
import * as path from 'node:path';
import { writeVectors } from './vectors';

const outDir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', '..', 'test', 'vectors'));
writeVectors(outDir)
  .then((cases) => console.log(`wrote ${cases.length} vector cases to ${outDir}`))
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
