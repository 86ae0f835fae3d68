#!/usr/bin/env node
'use strict';
// Stable entry for `npx bible-client`: npm links bins at install time, before dist/ is built.
let cli;
try {
  cli = require('../dist/cli.js');
} catch {
  process.stderr.write('bible-client: not built yet; run `npm run build` first\n');
  process.exit(2);
}
cli.main(process.argv).then((code) => {
  process.exitCode = code;
});
