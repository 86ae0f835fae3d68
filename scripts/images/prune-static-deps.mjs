// Used by docker/Dockerfile's build stage after `npm prune --omit=dev`:
//   node scripts/images/prune-static-deps.mjs <package>...
// Removes from node_modules the packages that are installed only because of the given packages,
// which the services use as static files (the gateway serves @scalar/api-reference's
// self-contained browser bundle and never loads its JavaScript dependencies). The given packages
// themselves stay. Reachability comes from `npm query` over the lockfile-backed tree.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const staticOnly = process.argv.slice(2);
if (staticOnly.length === 0) throw new Error('usage: prune-static-deps.mjs <package>...');
const query = (selector) =>
  new Set(
    JSON.parse(
      execFileSync('npm', ['query', selector], { encoding: 'utf8', maxBuffer: 1 << 30 }),
    ).map((n) => n.location),
  );
const ids = staticOnly.map((name) => `#${name}`).join(', ');
const not = staticOnly.map((name) => `:not(#${name})`).join('');
const pulledIn = query(staticOnly.map((name) => `#${name} *`).join(', '));
const needed = query(
  `:root > .prod${not}, :root > .prod${not} *, .workspace > .prod${not}, .workspace > .prod${not} *`,
);
const kept = query(ids);
const removable = [...pulledIn].filter((location) => !needed.has(location) && !kept.has(location));
for (const location of removable) rmSync(location, { recursive: true, force: true });
console.log(
  `prune-static-deps: removed ${removable.length} packages only ${staticOnly.join(', ')} needs`,
);
