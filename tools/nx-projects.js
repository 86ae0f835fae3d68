// Nx plugin: infers every project of the monorepo from its tsconfig.json, with its targets
// (build, typecheck, lint, test) and its module-boundary tags, so a new folder under libs/,
// services/ or bench/ is a project with the right tags without further configuration.
// Tags (checked by @nx/enforce-module-boundaries in eslint.config.mjs):
//   type:app     services/*                      may import libs
//   type:lib     libs/*                          may import libs, never apps
//   scope:shared libs/common (contracts)         imports no other project of ours
//   scope:format libs/package-format             imports no other project of ours
//   scope:testing libs/testing; scope:domain every other lib
//   type:tooling scripts/, type:e2e tests/, type:bench bench/*
const { dirname, basename } = require('node:path');

const CACHE_INPUTS = ['default', '^production', { externalDependencies: ['typescript'] }];

function tagsFor(root) {
  const [area, name] = root.split('/');
  if (area === 'services') return ['type:app'];
  if (area === 'libs') {
    const scope = { common: 'shared', 'package-format': 'format', testing: 'testing' }[name];
    return ['type:lib', `scope:${scope ?? 'domain'}`];
  }
  if (area === 'scripts') return ['type:tooling'];
  if (area === 'tests') return ['type:e2e'];
  if (area === 'bench') return ['type:bench'];
  return null;
}

function targetsFor(root) {
  // bench/* are plain programs (composite: false) checked and compiled with tsc -p; every other
  // project is a composite TypeScript project whose type check is its incremental build.
  const composite = !root.startsWith('bench/');
  const tsc = composite ? `tsc -b ${root}` : `tsc -p ${root}`;
  const targets = {
    build: {
      command: tsc,
      cache: true,
      dependsOn: ['^build'],
      // Spec files compile into dist too; what dependents see is their production files.
      inputs: CACHE_INPUTS,
      outputs: ['{projectRoot}/dist'],
    },
    // A composite project's type check is its incremental build (tsc -b checks and emits in one
    // pass); bench programs are checked without emitting.
    typecheck: composite
      ? { executor: 'nx:noop', dependsOn: ['build'] }
      : {
          command: `${tsc} --noEmit`,
          cache: true,
          dependsOn: ['^build'],
          inputs: CACHE_INPUTS,
        },
    lint: {
      command: `eslint ${root} --max-warnings=0`,
      cache: true,
      // Type-aware rules read the declarations of the projects it imports.
      dependsOn: ['^build'],
      inputs: [
        'default',
        '^production',
        '{workspaceRoot}/eslint.config.mjs',
        '{workspaceRoot}/tools/nx-projects.js',
        { externalDependencies: ['eslint', 'typescript-eslint', '@nx/eslint-plugin'] },
      ],
    },
  };
  if (composite) {
    // Unit tests (*.spec.ts) of this project, from its build output; none is not a failure.
    targets.test = {
      command: `node scripts/run-tests.mjs unit --under=${root}/ --allow-empty`,
      cache: true,
      dependsOn: ['build'],
      inputs: ['default', '^production', '{workspaceRoot}/scripts/run-tests.mjs'],
    };
  }
  return targets;
}

const createNodesV2 = [
  '**/tsconfig.json',
  (files) =>
    files.flatMap((file) => {
      const root = dirname(file);
      const tags = tagsFor(root);
      const depth = root.split('/').length;
      const nested =
        root.startsWith('libs/') || root.startsWith('services/') || root.startsWith('bench/');
      if (!tags || depth !== (nested ? 2 : 1)) return [];
      const projectType = root.startsWith('libs/') ? 'library' : 'application';
      const project = { root, projectType, tags, targets: targetsFor(root) };
      // libs/* and services/* are npm workspaces: Nx names them from their package.json.
      if (!root.startsWith('libs/') && !root.startsWith('services/'))
        project.name = root.startsWith('bench/') ? `bench-${basename(root)}` : root;
      return [[file, { projects: { [root]: project } }]];
    }),
];

module.exports = { name: 'bible-projects', createNodesV2 };
