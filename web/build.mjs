// Bundle the viewer into graphlint/_web/ (index.html + assets/), which the service serves at `/`.
// Usage: node build.mjs [--watch]
import { cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'graphlint', '_web');
const watch = process.argv.includes('--watch');

await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'assets'), { recursive: true });
await cp(join(here, 'index.html'), join(out, 'index.html'));

const options = {
  entryPoints: {
    app: join(here, 'src', 'main.ts'),
    'layout-worker': join(here, 'src', 'layout-worker.ts'),
    style: join(here, 'src', 'style.css'),
  },
  outdir: join(out, 'assets'),
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  legalComments: 'linked',
  logLevel: 'info',
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
